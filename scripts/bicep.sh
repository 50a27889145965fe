#!/usr/bin/env bash
# Pinned Bicep compiler for CI and local checks, taken from the NuGet package
# Azure.Bicep.CommandLine.linux-x64 via the .NET SDK (no other download).
#
#   scripts/bicep.sh restore          restore (once) and print the compiler version
#   scripts/bicep.sh path             print the binary path (restores if absent)
#   scripts/bicep.sh build [OUTFILE]  build infra/main.bicep (default .bicep/out/main.json)
#   scripts/bicep.sh lint [FILE...]   lint FILEs (default: every infra/**/*.bicep file)
#
# build and lint fail on any Warning or Error diagnostic, not only on errors.
# Cache: .bicep/<version>/bicep in the repository root (git-ignored).
# Env: BICEP_VERSION overrides the pinned version.
set -euo pipefail

BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
BICEP_PACKAGE="Azure.Bicep.CommandLine.linux-x64"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="$ROOT/.bicep"
CACHE_DIR="$CACHE_ROOT/$BICEP_VERSION"
BIN="$CACHE_DIR/bicep"
MAIN="$ROOT/infra/main.bicep"

die() { echo "bicep.sh: $*" >&2; exit 1; }

cached_ok() { [[ -x "$BIN" && -s "$BIN" ]]; }

do_restore() {
  cached_ok && return 0
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) die "only linux-x64 is supported by this script (got $(uname -s)-$(uname -m))" ;;
  esac
  command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is required to restore $BICEP_PACKAGE"
  mkdir -p "$CACHE_ROOT"
  # Serialise concurrent restores (parallel test workers, parallel CI steps).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE_ROOT/.lock"
    flock 9
    cached_ok && return 0
  fi
  local tmp sdk_major tfm found
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/bicep-restore.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  sdk_major="$(dotnet --version | cut -d. -f1)"
  [[ "$sdk_major" =~ ^[0-9]+$ ]] || die "cannot read the .NET SDK version"
  tfm="net${sdk_major}.0"
  cat >"$tmp/restore.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>$tfm</TargetFramework>
    <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
    <ImportDirectoryBuildTargets>false</ImportDirectoryBuildTargets>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$BICEP_PACKAGE" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
XML
  echo "bicep.sh: restoring $BICEP_PACKAGE $BICEP_VERSION with dotnet $(dotnet --version)" >&2
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    dotnet restore "$tmp/restore.csproj" --packages "$tmp/packages" --nologo -v quiet >&2 \
    || die "dotnet restore of $BICEP_PACKAGE $BICEP_VERSION failed"
  found="$(find "$tmp/packages" -type f -path '*/tools/bicep' | head -n 1)"
  [[ -n "$found" ]] || die "no tools/bicep binary inside $BICEP_PACKAGE $BICEP_VERSION"
  mkdir -p "$CACHE_DIR"
  cp "$found" "$BIN.tmp.$$"
  chmod 0755 "$BIN.tmp.$$"
  mv -f "$BIN.tmp.$$" "$BIN"
  rm -rf "$tmp"
  trap - EXIT
  "$BIN" --version >/dev/null 2>&1 || { rm -f "$BIN"; die "the restored binary does not run"; }
}

# Runs bicep with the given args; prints its diagnostics; fails on a non-zero
# exit or on any Warning/Error diagnostic line.
run_strict() {
  local out rc=0
  out="$("$BIN" "$@" 2>&1)" || rc=$?
  [[ -n "$out" ]] && printf '%s\n' "$out" >&2
  if (( rc != 0 )); then die "bicep $1 failed (exit $rc)"; fi
  if grep -Eq ' : (Warning|Error) ' <<<"$out"; then
    die "bicep $1 reported warnings or errors (treated as failures)"
  fi
}

cmd="${1:-}"
case "$cmd" in
  restore)
    do_restore
    "$BIN" --version
    ;;
  path)
    do_restore
    echo "$BIN"
    ;;
  build)
    out="${2:-$CACHE_ROOT/out/main.json}"
    do_restore
    mkdir -p "$(dirname "$out")"
    run_strict build "$MAIN" --outfile "$out"
    echo "bicep.sh: built $out" >&2
    ;;
  lint)
    shift
    do_restore
    if (( $# == 0 )); then
      run_strict lint --pattern "$ROOT/infra/**/*.bicep"
    else
      for f in "$@"; do run_strict lint "$f"; done
    fi
    echo "bicep.sh: lint clean" >&2
    ;;
  *)
    echo "usage: $0 {restore|path|build [OUTFILE]|lint [FILE...]}" >&2
    exit 2
    ;;
esac
