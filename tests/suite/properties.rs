//! Property tests: no input makes the config loader, the rule loader and evaluator, or the
//! CGMiner reply repair panic; repaired replies that were valid JSON parse to the same value.

use std::path::Path;

use edge_mining::rules::load::parse_text;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        "[a-zA-Z0-9 ,:{}\\[\\]\"\\\\\n]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z ]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn valid_json_is_never_altered_by_the_repairs(value in json_value()) {
        let text = serde_json::to_string(&value).unwrap();
        let strict: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(edge_mining::transport::cgminer::repair::parse(text.as_bytes()).unwrap(), strict.clone());
        let with_nul = format!("{text}\0");
        prop_assert_eq!(edge_mining::transport::cgminer::repair::parse(with_nul.as_bytes()).unwrap(), strict);
    }

    #[test]
    fn any_bytes_are_an_answer_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = edge_mining::transport::cgminer::repair::parse(&bytes);
    }

    #[test]
    fn truncated_replies_never_panic(value in json_value(), cut in 0usize..200) {
        let text = serde_json::to_string(&value).unwrap();
        let cut = cut.min(text.len());
        let _ = edge_mining::transport::cgminer::repair::parse(&text.as_bytes()[..cut]);
    }

    #[test]
    fn any_text_as_a_config_is_diagnosed_not_a_panic(text in "[a-z_:\\-\\[\\]{}, \n0-9\"'$.]{0,200}") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.yaml");
        std::fs::write(&file, &text).unwrap();
        if let Err(problems) = edge_mining::config::load(&file, &edge_mining::registry::REGISTRY) {
            prop_assert!(problems.iter().any(|p| p.is_error()));
        }
    }

    #[test]
    fn any_text_as_a_rule_file_is_diagnosed_not_a_panic(text in "[a-z_:\\-\\[\\]{}, \n0-9\"'.]{0,200}") {
        let _ = parse_text(Path::new("rules.yaml"), &text);
    }

    #[test]
    fn rules_evaluate_any_context_without_panicking(context in json_value(), threshold in any::<i64>(), text in "[a-zA-Z0-9]{0,6}") {
        let rules = format!(
            "rules:\n  - name: r\n    conditions:\n      any_of:\n        - {{field: energy_state.production, operator: gt, value: {threshold}}}\n        - {{field: miner_state.status, operator: regex, value: \"{text}\"}}\n        - {{field: timestamp.weekday, operator: in, value: [5, 6]}}\n        - not_: {{field: miner.model, operator: contains, value_ref: miner.name}}\n"
        );
        let (file, _) = parse_text(Path::new("r.yaml"), &rules);
        let Some(edge_mining::rules::load::RuleFile::List(list)) = file else { return Err(TestCaseError::fail("rules did not load")) };
        let mut context = context;
        edge_mining::core::context::complete(&mut context);
        let _ = edge_mining::rules::eval::holds(&list[0].conditions, &context);
    }
}
