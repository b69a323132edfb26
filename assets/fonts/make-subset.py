#!/usr/bin/env python3
"""Regenerate the bundled CJK font subset (run by hand; the result is committed).

The box must not depend on system fonts and must not carry the 19 MB Noto CJK
collection, so we keep Noto Sans CJK SC cut down to what TV text needs:
all of GB2312 (6,763 hanzi, which covers the 3,500 common characters and most
place and personal names) plus ASCII, full-width forms and CJK punctuation.

Needs: apt-get install fonts-noto-cjk; pip install fonttools
"""
import pathlib
import subprocess

SRC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = pathlib.Path(__file__).with_name("NotoSansSC-Subset.otf")

chars = set(chr(c) for c in range(0x20, 0x7F))
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.update(chr(c) for c in range(0x3000, 0x3040))  # CJK symbols and punctuation
chars.update(chr(c) for c in range(0xFF01, 0xFF5F))  # full-width forms
chars.update("·—–‘’“”…‰′″※€¥℃№←↑→↓√∞≤≥①②③④⑤⑥⑦⑧⑨⑩●○■□▲△★☆")
text = pathlib.Path("/tmp/dangjian-font-chars.txt")
text.write_text("".join(sorted(chars)), encoding="utf-8")
subprocess.run(
    [
        "pyftsubset", SRC, "--font-number=2", f"--text-file={text}",
        f"--output-file={OUT}", "--layout-features=kern,palt,vert",
        "--no-hinting", "--name-IDs=*", "--name-languages=*",
    ],
    check=True,
)
print(OUT, OUT.stat().st_size, "bytes,", len(chars), "characters")
