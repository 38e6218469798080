#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, where it can (as root).
# In CI a package that cannot be installed makes the tests that need it fail;
# on a user's machine those tests skip and say how to install it.
set -u
PKGS="raptor2-utils chromium virtuoso-opensource-7"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing system packages:$missing"
  (apt-get update -qq || true) >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 \
    || echo "warning: could not install$missing" >&2
else
  echo "note: system packages missing:$missing (install with: sudo apt-get install$missing); tests needing them will skip" >&2
fi
exit 0
