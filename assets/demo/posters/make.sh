#!/bin/sh
# Regenerates the demo video posters (16:9 title cards) with ImageMagick and
# the bundled CJK font. Outputs are committed, so CI needs no ImageMagick.
# Run from this folder.
set -eu
FONT=../../fonts/NotoSansSC-Subset.otf
poster() { # file top bottom title subtitle
  /usr/bin/convert -size 480x270 "gradient:$2-$3" \
    -fill '#FFFFFF' -font "$FONT" -pointsize 46 -gravity center -annotate +0-22 "$4" \
    -fill '#FFE8A3' -pointsize 28 -annotate +0+42 "$5" \
    -strip -quality 84 "$1"
}
poster news-1.jpg '#1B4F8A' '#0B2545' '冬季农田水利建设' '青石镇新闻'
poster lesson-1.jpg '#B00012' '#5A0A0A' '党章学习第一讲' '县委党校'
poster skills-1.jpg '#2E7D32' '#12401A' '大棚蔬菜冬季管理' '县农技站'
