"""What the fixture scripts (make-*-fixture.py) share: writing tensors as a
safetensors file."""
import json
import struct

import numpy as np


def write_safetensors(path, tensors):
    """`tensors` (name -> f32 or i64 numpy array) as a safetensors file."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = array.tobytes()
        dtype = {np.float32: "F32", np.int64: "I64"}[array.dtype.type]
        header[name] = {"dtype": dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header)
    text += " " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + b"".join(blobs))
