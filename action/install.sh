#!/usr/bin/env bash
# Installs devcluster for the GitHub Action into a directory of its own
# ($STATE_DIR/bin), leaving the job's PATH, Go and workspace as they are:
#
#  - a release tag (v1.2.3) as the action's ref: the release archive
#    devcluster_<version>_<os>_<arch>.tar.gz (.zip on Windows), checked
#    against the release's checksums.txt; a mismatch or a missing line is
#    refused, and nothing is installed;
#  - any other ref (a branch, a commit, `uses: ./`), or a tag without a
#    release: `go install` of the action's own source into that directory,
#    with the Go already on the machine (GOTOOLCHAIN=auto fetches the one
#    go.mod asks for); the job's Go is not changed;
#  - with MINIKUBE_VERSION or KIND_VERSION, that release of minikube or kind
#    (not devcluster's pinned one) from its project, checked against the
#    checksum the project publishes beside it, into TOOLS_DIR.
#
# Outputs (GITHUB_OUTPUT, random delimiters): devcluster, minikube, kind.
set -euo pipefail

: "${STATE_DIR:?}" "${GITHUB_ACTION_PATH:?}"
RELEASE_BASE="${RELEASE_BASE:-https://github.com/devcluster/devcluster/releases/download}"
MINIKUBE_BASE="${MINIKUBE_BASE:-https://github.com/kubernetes/minikube/releases/download}"
KIND_BASE="${KIND_BASE:-https://github.com/kubernetes-sigs/kind/releases/download}"
ACTION_REF="${ACTION_REF:-}"

fail() {
  echo "::error::$*"
  exit 1
}

# set_output writes name<<delimiter, the value, delimiter: a random
# delimiter, so no value can add an output of its own.
set_output() {
  local delim
  delim="ghadelimiter_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$2" "$delim" >>"$GITHUB_OUTPUT"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# fetch URL FILE: 0 when downloaded, 4 when the server has no such file
# (404), 1 for any other failure. Bounded: 30 s to connect, 10 min in all.
fetch() {
  local code
  code="$(curl -sSL --retry 3 --retry-connrefused --connect-timeout 30 --max-time 600 -o "$2" -w '%{http_code}' "$1")" || {
    echo "downloading $1 failed" >&2
    return 1
  }
  case "$code" in
  200) return 0 ;;
  404) return 4 ;;
  *)
    echo "downloading $1: HTTP $code" >&2
    return 1
    ;;
  esac
}

case "$(uname -s)" in
Linux) os=linux ;;
Darwin) os=darwin ;;
MINGW* | MSYS* | CYGWIN*) os=windows ;;
*) fail "devcluster has no release for $(uname -s)" ;;
esac
case "$(uname -m)" in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) fail "devcluster has no release for $(uname -m)" ;;
esac
exe=""
[ "$os" = windows ] && exe=.exe

bin="$STATE_DIR/bin"
mkdir -p "$bin"
tmp="$(mktemp -d "$STATE_DIR/download.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# install_release tag: 0 installed, 4 no such release; refuses (exit 1) a
# download that does not match checksums.txt.
install_release() {
  local tag="$1" version archive want got rc=0
  version="${tag#v}"
  archive="devcluster_${version}_${os}_${arch}.tar.gz"
  [ "$os" = windows ] && archive="devcluster_${version}_${os}_${arch}.zip"
  fetch "$RELEASE_BASE/$tag/checksums.txt" "$tmp/checksums.txt" || rc=$?
  [ "$rc" = 0 ] || return "$rc"
  want="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/checksums.txt")"
  [ -n "$want" ] || fail "refusing devcluster $tag: checksums.txt of the release has no line for $archive"
  fetch "$RELEASE_BASE/$tag/$archive" "$tmp/$archive" || fail "downloading $archive of devcluster $tag failed"
  got="$(sha256 "$tmp/$archive")"
  [ "$got" = "$want" ] || fail "refusing $archive of devcluster $tag: its sha256 is $got, but checksums.txt says $want; nothing was installed"
  # The function runs on the left of ||, where set -e does not apply:
  # every step checks itself.
  mkdir "$tmp/x" || fail "could not unpack $archive"
  if [ "$os" = windows ]; then
    if command -v unzip >/dev/null; then
      unzip -q "$tmp/$archive" "devcluster$exe" -d "$tmp/x" || fail "could not unpack $archive"
    else
      # PowerShell reads the paths from its environment, not from this line.
      # shellcheck disable=SC2016
      ARCHIVE="$tmp/$archive" DEST="$tmp/x" powershell -NoProfile -Command 'Expand-Archive -LiteralPath $env:ARCHIVE -DestinationPath $env:DEST' || fail "could not unpack $archive"
    fi
  else
    tar -xzf "$tmp/$archive" -C "$tmp/x" "devcluster$exe" || fail "could not unpack $archive"
  fi
  mv -f "$tmp/x/devcluster$exe" "$bin/devcluster$exe" || fail "could not install devcluster into $bin"
  chmod 0755 "$bin/devcluster$exe" || fail "could not install devcluster into $bin"
  echo "devcluster $tag installed from its release (sha256 $got checked against checksums.txt)"
}

installed=""
# A second use of the action in the job (command: down) finds it there.
if [ -x "$bin/devcluster$exe" ] && [ "$(cat "$bin/.ref" 2>/dev/null)" = "ref:$ACTION_REF" ]; then
  installed=earlier
  echo "devcluster is installed at $bin (an earlier use of the action)"
fi
if [ -z "$installed" ] && [[ "$ACTION_REF" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  rc=0
  install_release "$ACTION_REF" || rc=$?
  case "$rc" in
  0) installed=release ;;
  4) echo "devcluster $ACTION_REF has no release; building it from the action's source" ;;
  *) fail "could not download devcluster $ACTION_REF" ;;
  esac
fi
if [ -z "$installed" ]; then
  command -v go >/dev/null || fail "no devcluster release for the action's ref (${ACTION_REF:-a local checkout}) and no Go to build it: use a release tag, or set up Go before this step"
  version="${ACTION_REF:-dev}"
  (cd "$GITHUB_ACTION_PATH" && GOBIN="$bin" GOTOOLCHAIN=auto GOFLAGS=-mod=readonly go install -trimpath \
    -ldflags "-X github.com/devcluster/devcluster/cmd/devcluster/app.Version=$version" ./cmd/devcluster)
  echo "devcluster built from the action's source into $bin"
fi
echo "ref:$ACTION_REF" >"$bin/.ref"
set_output devcluster "$bin/devcluster$exe"

# install_tool tool version base checksum-suffix: the release the inputs
# ask for, into TOOLS_DIR under the name devcluster's own installer uses.
install_tool() {
  local tool="$1" version="$2" base="$3" suffix="$4" asset dest want got
  [[ "$version" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || fail "input $tool-version: \"$version\" is not a release version (v1.2.3)"
  version="v${version#v}"
  : "${TOOLS_DIR:?}"
  asset="$tool-$os-$arch"
  # minikube's Windows binary is named .exe, kind's is not.
  [ "$tool" = minikube ] && asset="$asset$exe"
  dest="$TOOLS_DIR/$tool-$version$exe"
  if [ -x "$dest" ]; then
    echo "$tool $version is cached at $dest"
  else
    mkdir -p "$TOOLS_DIR"
    fetch "$base/$version/$asset.$suffix" "$tmp/$asset.$suffix" || fail "$tool $version: no published checksum for $asset ($base/$version)"
    want="$(cut -d' ' -f1 <"$tmp/$asset.$suffix" | tr -d '\r\n')"
    fetch "$base/$version/$asset" "$tmp/$asset" || fail "downloading $tool $version ($asset) failed"
    got="$(sha256 "$tmp/$asset")"
    [ "$got" = "$want" ] || fail "refusing $tool $version: its sha256 is $got, but the published checksum is $want"
    chmod 0755 "$tmp/$asset"
    mv -f "$tmp/$asset" "$dest"
    echo "$tool $version installed at $dest (sha256 checked)"
  fi
  set_output "$tool" "$dest"
}

[ -z "${MINIKUBE_VERSION:-}" ] || install_tool minikube "$MINIKUBE_VERSION" "$MINIKUBE_BASE" sha256
[ -z "${KIND_VERSION:-}" ] || install_tool kind "$KIND_VERSION" "$KIND_BASE" sha256sum
