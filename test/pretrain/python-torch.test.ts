import { describe, expect, it } from 'vitest';
import {
  findPythonTorch,
  PYTHON_ENV,
  PythonTorchNotFound,
  torchVersion,
} from '../../scripts/lib/python-torch.mjs';

describe('finding a Python with PyTorch (scripts/lib/python-torch.mjs)', () => {
  it('refuses a LOCALREC_PYTHON that does not import torch, as nothing to install', () => {
    let error: unknown;
    try {
      findPythonTorch({ [PYTHON_ENV]: '/bin/false' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PythonTorchNotFound);
    expect((error as PythonTorchNotFound).message).toMatch(/LOCALREC_PYTHON=\/bin\/false/);
    expect((error as PythonTorchNotFound).installable).toBe(false);
  });

  it('reports no torch for a program that is not Python', () => {
    expect(torchVersion('/bin/true')).toBeUndefined();
    expect(torchVersion('/nonexistent/python3')).toBeUndefined();
  });
});
