"""The README's steps for making a read replica: what the primary must allow, and a base
backup that starts at once."""

import re
from pathlib import Path

from django.conf import settings

README = Path(settings.BASE_DIR) / "README.md"


def replica_steps() -> str:
    section = README.read_text().split("\n## Operations: read replicas\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```sh\n(.*?)```", section, flags=re.S))


def test_the_base_backup_asks_for_a_checkpoint_at_once():
    """Without `-c fast` pg_basebackup waits, saying nothing, for the primary's next
    checkpoint (minutes)."""
    command = next(line for line in replica_steps().splitlines() if line.startswith("pg_basebackup "))
    assert re.search(r" (-c fast|--checkpoint=fast)\b", command)


def test_the_primary_has_the_role_and_the_pg_hba_line_the_base_backup_uses():
    steps = replica_steps()
    user = re.search(r"^pg_basebackup .*-U (\S+)", steps, flags=re.M).group(1)
    assert re.search(rf"CREATE ROLE {user} WITH REPLICATION LOGIN", steps)
    assert re.search(rf"^#\s+host(ssl)?\s+replication\s+{user}\s+\S+\s+scram-sha-256$", steps, flags=re.M)
