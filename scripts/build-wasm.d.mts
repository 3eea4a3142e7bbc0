/** The text of src/model/simd-kernels.gen.ts as wasm/kernels.ts compiles now. */
export function generated(): Promise<string>;
/** One variant's module bytes. */
export function compileVariant(relaxed: boolean): Promise<Buffer>;
