//! Parsing CGMiner replies, repairing the invalid JSON real firmwares emit — only after a
//! strict parse has failed, so a valid reply is never altered.
//!
//! Repairs: NUL bytes, raw newlines inside strings, `,}` and `,]`, `}{` without a comma, a
//! stray `[,`, `inf`/`nan` tokens (→ null), a reply missing its opening `{`, and a truncated
//! buffer (cut back to the last complete element and closed).

use serde_json::Value;

/// Parses a reply, strictly first, then with repairs.
pub fn parse(reply: &[u8]) -> Result<Value, String> {
    if let Ok(value) = serde_json::from_slice(reply) {
        return Ok(value);
    }
    let text = String::from_utf8_lossy(reply);
    let cleaned = clean(&text);
    if let Ok(value) = serde_json::from_str(&cleaned) {
        return Ok(value);
    }
    let closed = close_truncated(&cleaned);
    serde_json::from_str(&closed).map_err(|err| {
        let start: String = text.chars().take(60).collect();
        format!("the reply is not JSON even after repairs ({err}); it starts with {start:?}")
    })
}

/// One pass over the text, outside strings fixing separators and tokens, inside strings
/// dropping raw control characters.
fn clean(text: &str) -> String {
    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    let text = match text.strip_prefix(',') {
        Some(rest) => format!("{{{}", rest.trim_start()),
        None => text.to_string(),
    };
    let chars: Vec<char> = text.chars().filter(|c| *c != '\0').collect();
    let mut out = String::with_capacity(chars.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                '\n' | '\r' | '\t' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ',' if next_significant(&chars, i + 1).is_some_and(|n| n == '}' || n == ']') => {}
            ',' if last_significant(&out) == Some('[') || last_significant(&out) == Some(',') => {}
            '{' if last_significant(&out) == Some('}') => out.push_str(",{"),
            _ if c.is_ascii_alphabetic() || (c == '-' && chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic())) => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '-') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let lower = word.to_ascii_lowercase();
                let replaced = match lower.trim_start_matches('-') {
                    "inf" | "infinity" | "nan" => "null",
                    _ => word.as_str(),
                };
                out.push_str(replaced);
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn next_significant(chars: &[char], from: usize) -> Option<char> {
    chars[from..].iter().copied().find(|c| !c.is_whitespace())
}

fn last_significant(text: &str) -> Option<char> {
    text.chars().rev().find(|c| !c.is_whitespace())
}

/// Cuts a truncated buffer back to its last complete element and closes what is open.
fn close_truncated(text: &str) -> String {
    let mut stack: Vec<char> = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    // (byte offset just after a complete element, the stack at that point)
    let mut last_good: Option<(usize, Vec<char>)> = None;
    for (offset, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                stack.pop();
                last_good = Some((offset + 1, stack.clone()));
            }
            ',' => last_good = Some((offset, stack.clone())),
            _ => {}
        }
    }
    let Some((cut, open)) = last_good else { return text.to_string() };
    let mut closed = text[..cut].trim_end().trim_end_matches(',').to_string();
    closed.extend(open.iter().rev());
    closed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_json_is_untouched() {
        let text = br#"{"STATUS":[{"STATUS":"S","Msg":"a,}b\n"}],"x":[1,2]}"#;
        assert_eq!(parse(text).unwrap(), serde_json::from_slice::<Value>(text).unwrap());
    }

    #[test]
    fn repairs_known_firmware_quirks() {
        let cases: [(&str, Value); 8] = [
            ("{\"a\":1,}\0", json!({"a": 1})),
            ("{\"a\":[1,2,],}", json!({"a": [1, 2]})),
            ("{\"STATS\":[{\"a\":1}{\"b\":2}]}", json!({"STATS": [{"a": 1}, {"b": 2}]})),
            ("{\"STATS\":[,{\"a\":1}]}", json!({"STATS": [{"a": 1}]})),
            ("{\"v\":\"line\nbreak\"}", json!({"v": "linebreak"})),
            ("{\"t\":inf,\"u\":-inf,\"w\":nan,\"ok\":true}", json!({"t": null, "u": null, "w": null, "ok": true})),
            (",\"id\":1}", json!({"id": 1})),
            ("{\"LIST\":[{\"a\":1},{\"b\":2},{\"c\":", json!({"LIST": [{"a": 1}, {"b": 2}]})),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text.as_bytes()).unwrap(), expected, "{text:?}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in ["", "<html>502</html>", "}{", "[[[[", "\"unterminated", "{\"a\":tru"] {
            let _ = parse(text.as_bytes());
        }
        assert!(parse(b"<html>Bad Gateway</html>").unwrap_err().contains("not JSON"));
    }
}
