import { describe, expect, it } from 'vitest';
import { isSoftwareRenderer } from '../../src/worker/tf/renderer';

describe('isSoftwareRenderer', () => {
  it('recognises emulators, as Chromium, Firefox and Mesa name them', () => {
    expect(
      isSoftwareRenderer(
        'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
      ),
    ).toBe(true);
    expect(isSoftwareRenderer('llvmpipe, or similar')).toBe(true); // Firefox, sanitised
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('Microsoft Basic Render Driver')).toBe(true);
  });

  it('recognises hardware only by a GPU family name', () => {
    expect(
      isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002503) Direct3D11)'),
    ).toBe(false);
    expect(isSoftwareRenderer('Intel(R) HD Graphics 400')).toBe(false);
    expect(isSoftwareRenderer('Radeon R9 200 Series, or similar')).toBe(false);
    expect(isSoftwareRenderer('Adreno (TM) 640')).toBe(false);
  });

  it('calls a masked or generic renderer unknown, never hardware', () => {
    // WebKit reports "Apple GPU" for every renderer, software WebGL under Xvfb included.
    expect(isSoftwareRenderer('Apple GPU')).toBeUndefined();
    expect(isSoftwareRenderer('WebKit WebGL')).toBeUndefined();
    expect(isSoftwareRenderer('Mozilla')).toBeUndefined();
    expect(isSoftwareRenderer('')).toBeUndefined();
    expect(isSoftwareRenderer(undefined)).toBeUndefined();
  });
});
