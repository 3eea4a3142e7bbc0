/** Library version, kept equal to package.json's by the build (scripts/build.mjs checks). */
export const version = '0.1.0';
