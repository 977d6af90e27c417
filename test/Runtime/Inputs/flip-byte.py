#!/usr/bin/env python3
"""flip-byte.py IN OUT OFFSET: copies IN to OUT with the byte at OFFSET
inverted; a negative OFFSET counts from the end (as a Python index)."""
import sys

data = bytearray(open(sys.argv[1], "rb").read())
offset = int(sys.argv[3])
data[offset] ^= 0xFF
open(sys.argv[2], "wb").write(data)
