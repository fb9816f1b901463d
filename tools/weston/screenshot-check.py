#!/usr/bin/env python3
"""Usage: screenshot-check.py PNG CLIENT-SIZE BACKGROUND

Whether weston's screenshot shows what weston-simple-dmabuf-egl drew.
Prints one KTAP result line (without a number; guest-weston.sh adds it).

The client (weston's clients/simple-dmabuf-egl.c) clears its square
window to black and draws a square half its size whose corners are
green (top left), yellow (top right), red (bottom left) and blue (bottom
right), moving along the diagonal with time but always inside the
window. desktop-shell puts the window somewhere (at random) on the
BACKGROUND colour (0xRRGGBB, weston.ini's), without decorations. So the
shot must be that background but for one CLIENT-SIZE square, the
window, which holds black and a coloured square of CLIENT-SIZE/2 with
those corners the right way up: a shot of only the background, a black,
shifted, flipped or mis-sized image fails.
Plain Python (zlib), so that it runs wherever the guest has python3.
"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth} type {ctype} interlace {interlace}")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def near(a, b, tol=8):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def bbox(points):
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def main():
    path, size, bg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 16)
    bg = ((bg >> 16) & 255, (bg >> 8) & 255, bg & 255)
    name = "screenshot-has-client-pixels"
    try:
        w, h, px = read_png(path)
    except (OSError, ValueError, TypeError, zlib.error) as e:
        print(f"not ok {name} # cannot read {path}: {e}")
        return
    corners = [px[0][0], px[0][w - 1], px[h - 1][0], px[h - 1][w - 1]]
    if not all(near(c, bg) for c in corners):
        print(f"not ok {name} # the shot's corners are {corners}, not the background {bg}")
        return
    other = [(x, y) for y in range(h) for x in range(w) if not near(px[y][x], bg)]
    if not other:
        print(f"not ok {name} # the {w}x{h} shot is only the background {bg}")
        return
    wx0, wy0, wx1, wy1 = bbox(other)
    win = f"window {wx1 - wx0 + 1}x{wy1 - wy0 + 1} at {wx0},{wy0}"
    if wx1 - wx0 + 1 != size or wy1 - wy0 + 1 != size:
        print(f"not ok {name} # {win}: expected {size}x{size}")
        return
    lit = [(x, y) for y in range(wy0, wy1 + 1) for x in range(wx0, wx1 + 1)
           if max(px[y][x]) > 40]
    if not lit:
        print(f"not ok {name} # {win} is all black: the client's square is missing")
        return
    x0, y0, x1, y1 = bbox(lit)
    half = size // 2
    box = f"{win}, square {x1 - x0 + 1}x{y1 - y0 + 1} at {x0},{y0}"
    problems = []
    if abs(x1 - x0 + 1 - half) > 2 or abs(y1 - y0 + 1 - half) > 2:
        problems.append(f"expected a {half}x{half} square")
    # Corners of the square, 2 pixels in: which channels are high.
    for cname, x, y, want in [("green top left", x0 + 2, y0 + 2, (0, 1, 0)),
                              ("yellow top right", x1 - 2, y0 + 2, (1, 1, 0)),
                              ("red bottom left", x0 + 2, y1 - 2, (1, 0, 0)),
                              ("blue bottom right", x1 - 2, y1 - 2, (0, 0, 1))]:
        got = px[y][x]
        if any((v > 180) != bool(hi) or (not hi and v > 80) for v, hi in zip(got, want)):
            problems.append(f"{cname} is {got}")
    if problems:
        print(f"not ok {name} # {box}: {'; '.join(problems)}")
    else:
        print(f"ok {name} # {box} in the {w}x{h} output; corners green, yellow,"
              " red, blue the right way up; the rest of the window dark")


main()
