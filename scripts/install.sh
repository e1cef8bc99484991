#!/bin/sh
# Installs the dspy-agent binary for this machine from a release.
#
#   curl -fsSL https://github.com/dspy-agent/dspy-agent/releases/latest/download/install.sh | sh
#   curl -fsSL .../install.sh | sh -s -- --version 0.1.0 --prefix /usr/local --service
#
# It detects the OS and architecture, downloads SHA256SUMS and the matching
# archive (dspy-agent-<version>-<target>.tar.gz) from the base URL, verifies
# the archive's checksum, and installs <prefix>/bin/dspy-agent. A checksum
# mismatch stops it before anything is installed.
#
# Options (each also settable through the environment variable shown):
#   --version V     release to install, e.g. 0.1.0    DSPY_AGENT_VERSION (default: latest)
#   --prefix DIR    install to DIR/bin                DSPY_AGENT_PREFIX  (default: ~/.local,
#                                                     or /usr/local with --service on Linux)
#   --base-url URL  where SHA256SUMS and archives are DSPY_AGENT_BASE_URL
#   --service       also install the service: the systemd unit on Linux (as root),
#                   a launchd agent on macOS
#   --no-start      with --service: install and enable it, but do not start it
#   -h, --help      show this help
#
# Tested by tests/dist_install_test.ts against a local HTTP server.
set -eu

REPO_URL="https://github.com/dspy-agent/dspy-agent"
SYSTEMD_UNIT_DIR="${SYSTEMD_UNIT_DIR:-/etc/systemd/system}"
SYSUSERS_DIR="${SYSUSERS_DIR:-/usr/lib/sysusers.d}"

say() { printf '%s\n' "$*" >&2; }
fail() {
  say "Cannot install dspy-agent: $*"
  exit 1
}
usage() {
  cat <<'USAGE'
Usage: install.sh [--version V] [--prefix DIR] [--base-url URL] [--service [--no-start]]

Installs <prefix>/bin/dspy-agent (default prefix ~/.local, or /usr/local with
--service on Linux) from the release archive for this machine, after checking
it against SHA256SUMS. --service also installs the systemd unit (Linux, as
root) or the launchd agent (macOS). Environment: DSPY_AGENT_VERSION,
DSPY_AGENT_PREFIX, DSPY_AGENT_BASE_URL.
USAGE
}

version="${DSPY_AGENT_VERSION:-latest}"
prefix="${DSPY_AGENT_PREFIX:-}"
base_url="${DSPY_AGENT_BASE_URL:-}"
service=no
start=yes

while [ $# -gt 0 ]; do
  case "$1" in
  --version) version="${2:?--version needs a value}"; shift 2 ;;
  --version=*) version="${1#*=}"; shift ;;
  --prefix) prefix="${2:?--prefix needs a value}"; shift 2 ;;
  --prefix=*) prefix="${1#*=}"; shift ;;
  --base-url) base_url="${2:?--base-url needs a value}"; shift 2 ;;
  --base-url=*) base_url="${1#*=}"; shift ;;
  --service | --systemd) service=yes; shift ;;
  --no-start) start=no; shift ;;
  -h | --help) usage; exit 0 ;;
  *) fail "unknown option \"$1\" (see --help)" ;;
  esac
done

# Maps `uname` to a release target name (scripts/targets.ts spells the same names).
detect_target() {
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) fail "no release for the $arch architecture (x86_64 and aarch64 are built); build from source instead" ;;
  esac
  case "$os" in
  Linux)
    if ldd --version 2>&1 | grep -qi musl; then
      fail "the Linux binaries need glibc and this system uses musl; build from source instead"
    fi
    echo "$arch-unknown-linux-gnu"
    ;;
  Darwin)
    # An x86_64 shell under Rosetta on Apple silicon still gets the native binary.
    if [ "$arch" = x86_64 ] && [ "$(sysctl -n hw.optional.arm64 2>/dev/null || true)" = 1 ]; then
      arch=aarch64
    fi
    echo "$arch-apple-darwin"
    ;;
  MINGW* | MSYS* | CYGWIN* | Windows_NT)
    fail "on Windows use scripts/install.ps1 (PowerShell)"
    ;;
  *) fail "no release for the $os operating system; build from source instead" ;;
  esac
}

download() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https,http' -fsSL --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    fail "neither curl nor wget is installed"
  fi
}

sha256() { # FILE
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    fail "neither sha256sum nor shasum is installed, so the download cannot be verified"
  fi
}

target="$(detect_target)"
os_kind=linux
case "$target" in *-apple-darwin) os_kind=macos ;; esac

if [ -z "$base_url" ]; then
  if [ "$version" = latest ]; then
    base_url="$REPO_URL/releases/latest/download"
  else
    base_url="$REPO_URL/releases/download/v${version#v}"
  fi
fi
base_url="${base_url%/}"

if [ -z "$prefix" ]; then
  if [ "$service" = yes ] && [ "$os_kind" = linux ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
fi
bin_dir="$prefix/bin"

if [ "$service" = yes ] && [ "$os_kind" = linux ]; then
  [ "$(id -u)" = 0 ] || fail "installing the systemd service needs root (run with sudo)"
  case "$prefix" in
  /home/* | /root | /root/* | /run/user/*)
    fail "the service cannot run a binary in $bin_dir: the unit's ProtectHome= hides it; use --prefix /usr/local" ;;
  esac
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/dspy-agent-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

say "Downloading $base_url/SHA256SUMS"
download "$base_url/SHA256SUMS" "$work/SHA256SUMS" || fail "could not download $base_url/SHA256SUMS"

# SHA256SUMS lines are "<sha256>  <archive>"; pick this target's archive
# (and, when a version was asked for, that version's).
if [ "$version" = latest ]; then
  pattern="dspy-agent-[^ ]*-$target\\.tar\\.gz"
else
  pattern="dspy-agent-${version#v}-$target\\.tar\\.gz"
fi
line="$(grep -E "^[0-9a-f]{64} [ *]?$pattern\$" "$work/SHA256SUMS" | head -n 1 || true)"
[ -n "$line" ] || fail "no archive for $target (version $version) is listed in $base_url/SHA256SUMS"
expected="$(echo "$line" | cut -d' ' -f1)"
archive="$(echo "$line" | sed 's/^[0-9a-f]* [ *]\{0,1\}//')"

say "Downloading $base_url/$archive"
download "$base_url/$archive" "$work/$archive" || fail "could not download $base_url/$archive"
actual="$(sha256 "$work/$archive")"
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $archive (SHA256SUMS says $expected, the download is $actual); the download is corrupt or was tampered with, so nothing was installed"
fi

mkdir -p "$work/unpacked"
tar -xzf "$work/$archive" -C "$work/unpacked" || fail "$archive is not a valid .tar.gz archive"
[ -f "$work/unpacked/dspy-agent" ] || fail "$archive holds no dspy-agent binary"

# Copy next to the destination, then rename: a running dspy-agent keeps its
# old file and nobody sees a half-written binary.
mkdir -p "$bin_dir" || fail "could not create $bin_dir"
cp "$work/unpacked/dspy-agent" "$bin_dir/.dspy-agent.new.$$"
chmod 0755 "$bin_dir/.dspy-agent.new.$$"
mv -f "$bin_dir/.dspy-agent.new.$$" "$bin_dir/dspy-agent"
say "Installed $bin_dir/dspy-agent (${archive%.tar.gz})"

install_systemd() {
  [ -f "$work/unpacked/dspy-agent.service" ] || fail "$archive holds no dspy-agent.service"
  mkdir -p "$SYSTEMD_UNIT_DIR" "$SYSUSERS_DIR"
  sed "s#/usr/local/bin/dspy-agent#$bin_dir/dspy-agent#g" "$work/unpacked/dspy-agent.service" \
    >"$SYSTEMD_UNIT_DIR/dspy-agent.service"
  cp "$work/unpacked/dspy-agent.sysusers" "$SYSUSERS_DIR/dspy-agent.conf"
  say "Installed $SYSTEMD_UNIT_DIR/dspy-agent.service and $SYSUSERS_DIR/dspy-agent.conf"
  now=--now
  [ "$start" = yes ] || now=
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    getent group docker >/dev/null 2>&1 || say "Warning: there is no docker group yet; install Docker Engine first"
    systemd-sysusers "$SYSUSERS_DIR/dspy-agent.conf"
    systemctl daemon-reload
    systemctl enable $now dspy-agent.service
    say "Enabled dspy-agent.service; follow it with: journalctl -u dspy-agent -f"
  else
    say "systemd is not running here; to finish, run:"
    say "  systemd-sysusers && systemctl daemon-reload && systemctl enable $now dspy-agent.service"
  fi
}

install_launchd() {
  [ -f "$work/unpacked/dev.dspy-agent.plist" ] || fail "$archive holds no dev.dspy-agent.plist"
  agents="$HOME/Library/LaunchAgents"
  mkdir -p "$agents" "$HOME/.dspy-agent"
  sed "s#@BIN@#$bin_dir#g; s#@HOME@#$HOME#g" "$work/unpacked/dev.dspy-agent.plist" >"$agents/dev.dspy-agent.plist"
  say "Installed $agents/dev.dspy-agent.plist"
  if [ "$start" = yes ] && command -v launchctl >/dev/null 2>&1; then
    launchctl bootout "gui/$(id -u)/dev.dspy-agent" 2>/dev/null || true
    launchctl bootstrap "gui/$(id -u)" "$agents/dev.dspy-agent.plist"
    say "Started dev.dspy-agent; logs in $HOME/.dspy-agent/launchd.log"
  fi
}

if [ "$service" = yes ]; then
  case "$os_kind" in
  linux) install_systemd ;;
  macos) install_launchd ;;
  esac
fi

case ":$PATH:" in
*":$bin_dir:"*) ;;
*) say "Add $bin_dir to your PATH, e.g.: echo 'export PATH=\"$bin_dir:\$PATH\"' >> ~/.profile" ;;
esac
if "$bin_dir/dspy-agent" version >/dev/null 2>&1; then
  say "Done: $("$bin_dir/dspy-agent" version 2>&1 | head -n 1)"
else
  say "Warning: $bin_dir/dspy-agent was installed but \`dspy-agent version\` failed"
fi
