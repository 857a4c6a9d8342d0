#!/usr/bin/env bash
# espeak-ng and sox synthesise the spoken test sentences the transcription tests feed to
# PocketSphinx (tests/integration/test_nlp_service.py). They are Debian packages, not Python
# ones: installed with apt-get when missing and this runs as root. Elsewhere it says what to
# install and carries on; the tests that need a synthesiser then skip with that reason.
# Idempotent: does nothing when both commands are there.
set -euo pipefail

missing=()
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install_speech_tools: please install ${missing[*]} (Debian: apt-get install ${missing[*]});" \
    "the speech-synthesis tests skip without them" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends "${missing[@]}"; }
# The package lists of a fresh machine may be stale or absent: refresh once if the first try
# fails. A failure here must not fail `make test`: the tests that need these skip and say why.
if ! install && ! { apt-get update -qq && install; }; then
  echo "install_speech_tools: apt-get could not install ${missing[*]};" \
    "the speech-synthesis tests will skip" >&2
fi
