#!/bin/sh
# Seeds the fuzz corpus from the project's samples.
set -eu
here=$(dirname "$0")
mkdir -p "$here/corpus/sanitize_mail"
cp "$here"/../../../samples/*.eml "$here/corpus/sanitize_mail/"
