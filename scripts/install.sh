#!/bin/sh
# Installs leoflow from a release: picks the archive for this machine, checks it against SHA256SUMS, puts
# the binary in /usr/local/bin, and with --systemd sets it up as a service (leoflow user, /var/lib/leoflow,
# /etc/leoflow/leoflow.toml with generated secrets, a hardened leoflow.service; see docs/install.md).
#
#   curl -fsSL https://github.com/leoflow/leoflow/releases/latest/download/install.sh | sudo sh -s -- --systemd
#
# Options:
#   --version V      a release (default: the latest)
#   --prefix DIR     install to DIR/bin (default /usr/local)
#   --systemd        also install the service (Linux; runs 'leoflow install --systemd')
#   --base-url URL   where the release files are (default: the GitHub release; a local folder works too)
#   --target T       the archive to take, e.g. linux-x64-musl (default: this machine's)
# DESTDIR=DIR installs under DIR instead of / (packaging, tests).
set -eu

RELEASES="https://github.com/leoflow/leoflow/releases"
version="" prefix="/usr/local" systemd="" base="" target=""
die() { echo "install.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die "--version needs a value"; version="${2#v}"; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a value"; prefix="$2"; shift 2 ;;
    --systemd) systemd=1; shift ;;
    --base-url) [ $# -ge 2 ] || die "--base-url needs a value"; base="$2"; shift 2 ;;
    --target) [ $# -ge 2 ] || die "--target needs a value"; target="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option \"$1\" (see --help)" ;;
  esac
done
DESTDIR="${DESTDIR:-}"

# The machine: <os>-<arch>[-musl], as the archives are named.
if [ -z "$target" ]; then
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "no release for $(uname -s); build from source (docs/install.md)" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no release for the $(uname -m) processor; build from source (docs/install.md)" ;;
  esac
  [ "$os-$arch" != darwin-x64 ] || die "no release for Intel Macs (darwin-arm64 only); build from source (docs/install.md)"
  target="$os-$arch"
  if [ "$os" = linux ] && { ls /lib/ld-musl-* >/dev/null 2>&1 || ldd --version 2>&1 | grep -qi musl; }; then target="$target-musl"; fi
fi
if [ -n "$systemd" ] && [ "${target#linux}" = "$target" ]; then die "--systemd is for Linux"; fi

# Where the files are: a folder, a URL, or the GitHub release of --version (or the latest).
if [ -z "$base" ]; then
  if [ -n "$version" ]; then base="$RELEASES/download/v$version"; else base="$RELEASES/latest/download"; fi
elif [ -d "$base" ]; then
  base="file://$(cd "$base" && pwd)"
fi
command -v curl >/dev/null 2>&1 || die "curl is needed to download the release; install it (apt-get install curl)"
if command -v sha256sum >/dev/null 2>&1; then sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else die "sha256sum (or shasum) is needed to check the download"; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
curl -fsSL "$base/SHA256SUMS" -o "$tmp/SHA256SUMS" || die "could not download $base/SHA256SUMS"
# SHA256SUMS names the archives, so it also says which version "latest" is.
line="$(grep -E "  leoflow-${version:-[0-9][^ ]*}-$target\.tar\.gz\$" "$tmp/SHA256SUMS" | tail -n 1 || true)"
[ -n "$line" ] || die "the release at $base has no archive for $target${version:+ at version $version} (see its SHA256SUMS)"
archive="${line#*  }"
expected="${line%%  *}"
curl -fsSL "$base/$archive" -o "$tmp/$archive" || die "could not download $base/$archive"
actual="$(sha256 "$tmp/$archive")"
[ "$actual" = "$expected" ] || die "$archive does not match SHA256SUMS (got $actual, expected $expected): the download is corrupt or was tampered with; nothing was installed"

tar -xzf "$tmp/$archive" -C "$tmp"
dir="$tmp/${archive%.tar.gz}"
[ -x "$dir/leoflow" ] || die "$archive holds no leoflow binary"
bindir="$DESTDIR$prefix/bin"
mkdir -p "$bindir" 2>/dev/null || die "cannot create $bindir: run as root (sudo sh), or pass --prefix \$HOME/.local"
[ -w "$bindir" ] || die "cannot write to $bindir: run as root (sudo sh), or pass --prefix \$HOME/.local"
# Beside, then renamed: a running leoflow keeps its old file, and no one sees half a binary.
cp "$dir/leoflow" "$bindir/.leoflow.new"
chmod 0755 "$bindir/.leoflow.new"
mv -f "$bindir/.leoflow.new" "$bindir/leoflow"
echo "installed $prefix/bin/leoflow from $archive (sha256 ok)"
"$bindir/leoflow" version | sed 's/^/  /'

if [ -n "$systemd" ]; then
  if [ -n "$DESTDIR" ]; then "$bindir/leoflow" install --systemd --prefix "$prefix" --root "$DESTDIR"
  else "$bindir/leoflow" install --systemd --prefix "$prefix"; fi
fi
