"""The peer beside the product in `cargo bench --bench fleet`: pyasic reads
summary+devs+stats+version (one multi-command, as the product sends) from every fake miner
whose port is listed in PORTS_FILE, all at once on asyncio, and exits 0 when all answered.

    python3 -m venv ~/pyasic-venv && ~/pyasic-venv/bin/pip install pyasic
    PYASIC_PYTHON=~/pyasic-venv/bin/python cargo bench --bench fleet -- fleet
"""

import asyncio
import sys

from pyasic.rpc.bmminer import BMMinerRPCAPI


async def read(port: int) -> bool:
    try:
        reply = await BMMinerRPCAPI("127.0.0.1", port).multicommand("summary", "devs", "stats", "version")
    except Exception:
        return False
    return all(command in reply for command in ("summary", "devs", "stats", "version"))


async def main(ports: list[int]) -> int:
    answered = await asyncio.gather(*(read(port) for port in ports))
    return 0 if all(answered) else 1


if __name__ == "__main__":
    with open(sys.argv[1]) as listed:
        fleet = [int(line) for line in listed if line.strip()]
    sys.exit(asyncio.run(main(fleet)))
