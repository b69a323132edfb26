#!/bin/sh
# Regenerates the demo honour photos: simple, respectful illustrations (we
# have no real photos) drawn with ImageMagick and the bundled CJK font.
# Outputs are committed, so CI needs no ImageMagick. Run from this folder.
set -eu
FONT=../../fonts/NotoSansSC-Subset.otf
person() { # file background name
  /usr/bin/convert -size 360x480 "gradient:$2-#FFF8EC" \
    -fill '#5A4636' -draw 'circle 180,170 180,95' \
    -draw 'roundrectangle 70,270 290,520 90,90' \
    -fill '#B5000F' -draw 'polygon 165,280 195,280 188,330 172,330' \
    -fill '#FFFFFF' -font "$FONT" -pointsize 40 -gravity south -annotate +0+22 "$3" \
    -strip -quality 82 "$1"
}
person member-1.jpg '#F2C6B4' 李秀英
person member-2.jpg '#C9D8EE' 王建国
person member-3.jpg '#D6E8C8' 张德明
/usr/bin/convert -size 360x480 'gradient:#F7DDB0-#FFF8EC' \
  -fill '#B5000F' -draw 'rectangle 60,190 300,380' \
  -fill '#FFF8EC' -draw 'rectangle 150,290 210,380' \
  -fill '#8C0010' -draw 'polygon 40,200 180,110 320,200' \
  -fill '#FFD36B' -draw 'circle 180,165 180,150' \
  -fill '#2B2B2B' -font "$FONT" -pointsize 34 -gravity south -annotate +0+22 '东坡村党支部' \
  -strip -quality 82 branch.jpg
/usr/bin/convert -size 360x480 'gradient:#E3D5F0-#FFF8EC' \
  -fill '#7A5230' -draw 'rectangle 70,220 290,390' \
  -fill '#A23B2A' -draw 'polygon 50,230 180,130 310,230' \
  -fill '#FFF8EC' -draw 'rectangle 160,300 200,390' \
  -fill '#5A4636' -draw 'circle 110,330 110,305' -draw 'circle 250,330 250,310' \
  -fill '#2B2B2B' -font "$FONT" -pointsize 40 -gravity south -annotate +0+22 '周家' \
  -strip -quality 82 household.jpg
