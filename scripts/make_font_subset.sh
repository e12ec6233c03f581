#!/usr/bin/env bash
# Rebuilds assets/NotoSansSC-GB2312.otf: Noto Sans CJK SC cut to GB2312 + ASCII + Latin-1
# (every character a Chinese shapefile attribute is likely to hold), about 1.6 MB.
#   apt-get install fonts-noto-cjk && pip install fonttools
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 - "$tmp/chars.txt" <<'PY'
import sys
chars = {chr(c) for c in range(0x20, 0x7f)} | {chr(c) for c in range(0xa0, 0x180)}
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars |= set("亩㎡²³°′″–—…·•←→↑↓±×÷≤≥≈∞▲▼△▽◆◇●○■□✓✗")
open(sys.argv[1], "w", encoding="utf-8").write("".join(sorted(chars)))
PY
# Font number 2 of the collection is Noto Sans CJK SC.
pyftsubset /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc --font-number=2 \
  --text-file="$tmp/chars.txt" --output-file=assets/NotoSansSC-GB2312.otf \
  --layout-features='' --no-hinting --desubroutinize --name-IDs='*'
rm -rf "$tmp"

# The replacement character U+FFFD (shown for bytes the encoding cannot decode), which Noto
# Sans CJK lacks: one glyph of DejaVu Sans (Bitstream Vera licence, assets/DejaVu-LICENSE.txt).
#   apt-get install fonts-dejavu-core
pyftsubset /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf --unicodes=U+FFFD \
  --output-file=assets/DejaVuSans-replacement.ttf --layout-features='' --no-hinting
