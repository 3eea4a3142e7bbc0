// What a WebGL renderer string or WebGPU adapter description says about the hardware
// behind it. Pure: no TF.js, no DOM.
//
// Only a positive identification counts. Browsers hide the real renderer more and more:
// WebKit reports "Apple GPU" whatever the device (software WebGL under Xvfb included),
// Firefox deprecates WEBGL_debug_renderer_info and reports a sanitised class of device,
// and without the extension every engine reports a generic name. A string that names
// neither an emulator nor a known GPU family is "unknown", and an unknown renderer gets
// no GPU preference in the backend choice: the timed trial decides alone.

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render|lavapipe|mesa offscreen/i;

/** GPU families whose name a browser only reports for the real device. */
const HARDWARE =
  /nvidia|geforce|quadro|radeon|\bamd\b|\bati\b|intel|iris|uhd graphics|hd graphics|adreno|mali|powervr|apple m\d|videocore|tegra|qualcomm|immortalis/i;

/**
 * true: an emulated GPU (SwiftShader, llvmpipe, a WebGPU fallback adapter's description);
 * false: a known hardware GPU family; undefined: unknown or masked (e.g. "Apple GPU",
 * "WebKit WebGL", an empty string).
 */
export function isSoftwareRenderer(description: string | undefined): boolean | undefined {
  if (!description?.trim()) return undefined;
  if (SOFTWARE.test(description)) return true;
  if (HARDWARE.test(description)) return false;
  return undefined;
}
