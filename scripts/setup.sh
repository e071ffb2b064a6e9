#!/usr/bin/env bash
# Set up RetouchIQ on a fresh Debian/Ubuntu machine and run the main job on the bundled sample photo.
# Installs: darktable (darktable-cli), Python venv tools, Xvfb and Lua (for the plugin tests), then a virtual
# environment in .venv with the package. Re-running is safe.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES="darktable python3 python3-venv python3-pip xvfb xauth lua5.4 curl"
missing=""
for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "==> installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "==> installing the package into .venv"
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'
mkdir -p out
cp agent/samples/seeding_by_Clements_Engelhardt.jpg out/sample.jpg
rm -f out/sample.jpg.xmp
INSTRUCTION="${INSTRUCTION:-lift the shadows and make it warmer}"
echo "==> main job: retouchiq edit out/sample.jpg -i \"$INSTRUCTION\" (compact policy, offline, CPU)"
.venv/bin/retouchiq edit out/sample.jpg -i "$INSTRUCTION"
echo "==> rendering before / after with darktable-cli"
.venv/bin/retouchiq render out/sample.jpg --original -o out/sample-before.jpg --width 1024
.venv/bin/retouchiq render out/sample.jpg -o out/sample-after.jpg --width 1024
# `retouchiq` from any shell: a link in ~/.local/bin when that folder is on PATH (Debian's and Ubuntu's
# ~/.profile put it there once it exists), never over another program of that name
BIN="$HOME/.local/bin"
case ":$PATH:" in
  *":$BIN:"*)
    if [ ! -e "$BIN/retouchiq" ] || [ -L "$BIN/retouchiq" ]; then
      mkdir -p "$BIN" && ln -sfn "$PWD/.venv/bin/retouchiq" "$BIN/retouchiq" && echo "==> linked $BIN/retouchiq -> .venv/bin/retouchiq"
    else
      echo "==> $BIN/retouchiq exists and is not ours: run $PWD/.venv/bin/retouchiq"
    fi ;;
  *) echo "==> retouchiq is $PWD/.venv/bin/retouchiq; from any shell: export PATH=\"$PWD/.venv/bin:\$PATH\"" ;;
esac
echo "==> done: out/sample.jpg.xmp (open out/sample.jpg in darktable to see the history),"
echo "    out/sample-before.jpg, out/sample-after.jpg"
