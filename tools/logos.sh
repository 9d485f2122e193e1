#!/bin/sh
# tools/logos.sh: render the kernelspec's PNG logos from kernelspec/logo-svg.svg.
# The PNGs are committed, so the build needs no SVG renderer; rerun this by hand
# (needs rsvg-convert from librsvg2-bin) after editing the SVG.
set -eu
cd "$(dirname "$0")/../kernelspec"
for size in 32 64; do
    rsvg-convert -w "$size" -h "$size" logo-svg.svg -o "logo-${size}x${size}.png"
done
