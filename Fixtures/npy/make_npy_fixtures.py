#!/usr/bin/env python3
"""Writes the tiny .npy fixtures of NPYTests with NumPy, plus expected.json with NumPy's truth.

Run from anywhere: `python3 Fixtures/npy/make_npy_fixtures.py` (needs numpy; written with 2.4).
Each entry of expected.json: file name -> {"ok": true, "dtype": descr, "shape": [...],
"values": flat C-order list} for files the Swift reader must accept, or {"ok": false,
"error": kind} (an NPYError.Kind raw value) for files it must reject.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
expected = {}


def save(name, array, version=None, **kwargs):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        if version is None:
            np.save(f, array, **kwargs)
        else:
            np.lib.format.write_array(f, array, version=version, **kwargs)
    return path


def accept(name, array, version=None):
    save(name, array, version)
    a = np.load(os.path.join(HERE, name))
    values = a.ravel(order="C").tolist()
    if a.dtype == np.bool_:
        values = [int(v) for v in values]
    expected[name] = {"ok": True, "dtype": a.dtype.str, "shape": list(a.shape), "values": values}


def reject(name, array, error, **kwargs):
    save(name, array, **kwargs)
    expected[name] = {"ok": False, "error": error}


accept("f32_2x3.npy", np.array([[1.5, -2.25, 3.0], [0.1, 1e-30, -0.0]], dtype="<f4"))
accept("f64_3x1.npy", np.array([[np.pi], [-1e300], [5e-324]], dtype="<f8"))
accept("i64_1d.npy", np.array([0, -1, 2**62, -(2**63), 7], dtype="<i8"))
accept("i32_2x2.npy", np.array([[1, -2], [2**31 - 1, -(2**31)]], dtype="<i4"))
accept("bool_4.npy", np.array([True, False, False, True]))
accept("u8_2x3.npy", np.array([[0, 1, 127], [128, 254, 255]], dtype="|u1"))
accept("i16_3.npy", np.array([-32768, 0, 32767], dtype="<i2"))
accept("scalar_f64.npy", np.array(2.5, dtype="<f8"))
accept("empty_0x3_f32.npy", np.zeros((0, 3), dtype="<f4"))
accept("v2_f32_2x2.npy", np.array([[1, 2], [3, 4]], dtype="<f4"), version=(2, 0))
accept("v3_i64_3.npy", np.array([10, 20, 30], dtype="<i8"), version=(3, 0))
accept("f32_4d.npy", np.arange(2 * 1 * 2 * 3, dtype="<f4").reshape(2, 1, 2, 3) / 8)

# Fortran order (np.save(path, a.T) writes it too): read in C order, values as np.load gives them.
accept("fortran_f64_2x3.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
accept("fortran_i8_3x2x2.npy", np.asfortranarray(np.arange(12, dtype="<i8").reshape(3, 2, 2) * 7 - 30))
accept("fortran_f4_transposed_4x3.npy", (np.arange(12, dtype="<f4").reshape(3, 4) / 4).T)
reject("bigendian_f4_3.npy", np.array([1, 2, 3], dtype=">f4"), "bigEndian")
reject("complex_c8_2.npy", np.array([1 + 2j, 3], dtype="<c8"), "unsupportedDType")
reject("unicode_U5_2.npy", np.array(["ab", "cdefg"], dtype="<U5"), "unsupportedDType")
reject("object_2.npy", np.array([1, "x"], dtype=object), "unsupportedDType", allow_pickle=True)

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
