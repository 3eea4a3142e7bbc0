import { resolve } from 'node:path';
import { defineConfig, type UserConfig } from 'vite';

/**
 * One config, several builds selected by `--mode` (scripts/build.mjs runs them in order):
 *
 * - `lib`    dist/localrec.js         ES module entry (main thread; never TF.js)
 * - `global` dist/localrec.global.js  self-contained IIFE for a <script> tag, `window.LocalRec`
 * - `worker` dist/localrec.worker.js  module worker bundle: TF.js + backends + trainer
 * - `eval`   dist/localrec-eval.js    ES module entry `localrec/eval`: protocol + baselines
 * - `eval-global` dist/localrec-eval.global.js  the same as an IIFE, `window.LocalRecEval`
 * - `cli`    dist/cli.js              Node CLI (`localrec eval|bench|pretrain`)
 * - `demo`   dist-demo/               the demo page (uses dist/ exactly as a site would)
 *
 * Library builds inline their small dependencies (idb, comlink) so `dist/localrec.js`
 * can be imported from a static server with no bundler and no import map.
 */
const root = import.meta.dirname;
// scripts/build.mjs builds into a fresh folder and swaps it in at the end, so a running
// e2e server never sees a half-written dist/.
const outDir = process.env.LOCALREC_OUT_DIR ?? 'dist';

// Source maps are written beside each file for debugging a checkout's build, but 'hidden'
// (no `sourceMappingURL` comment) and not in the npm package (package.json `files`): the
// worker's alone is 11.9 MB, mostly TF.js's sources, and a site would serve no map anyway.
const sourcemap = 'hidden';

const libCommon: UserConfig['build'] = {
  outDir,
  emptyOutDir: false,
  target: 'es2022',
  sourcemap,
  minify: true,
  reportCompressedSize: false,
};

/**
 * Vite leaves whitespace and module-path comments in ES library output (it expects a
 * bundler downstream); localrec.js and the worker are served to browsers as they are, so
 * they get the same full minification as the IIFE. `annotations` keeps the
 * `/* @__PURE__ *\/` marks a bundler that tree-shakes localrec.js reads.
 */
const minifiedEs = (annotations: boolean) => ({
  output: {
    minify: true,
    comments: { annotation: annotations, jsdoc: false, legal: false },
  },
});

export default defineConfig(({ mode }): UserConfig => {
  switch (mode) {
    case 'lib':
      return {
        build: {
          ...libCommon,
          lib: {
            entry: resolve(root, 'src/index.ts'),
            formats: ['es'],
            fileName: () => 'localrec.js',
          },
          rolldownOptions: minifiedEs(true),
        },
      };
    case 'global':
      return {
        // A classic script has no module URL; src/global.ts records document.currentScript.
        define: { 'import.meta.url': 'undefined' },
        build: {
          ...libCommon,
          lib: {
            entry: resolve(root, 'src/global.ts'),
            formats: ['iife'],
            name: 'LocalRec',
            fileName: () => 'localrec.global.js',
          },
        },
      };
    case 'eval':
      return {
        build: {
          ...libCommon,
          lib: {
            entry: resolve(root, 'src/eval-entry.ts'),
            formats: ['es'],
            fileName: () => 'localrec-eval.js',
          },
          rolldownOptions: minifiedEs(true),
        },
      };
    case 'eval-global':
      return {
        build: {
          ...libCommon,
          lib: {
            entry: resolve(root, 'src/eval-entry.ts'),
            formats: ['iife'],
            name: 'LocalRecEval',
            fileName: () => 'localrec-eval.global.js',
          },
        },
      };
    case 'worker':
      return {
        build: {
          ...libCommon,
          lib: {
            entry: resolve(root, 'src/worker/worker-entry.ts'),
            formats: ['es'],
            fileName: () => 'localrec.worker.js',
          },
          rolldownOptions: minifiedEs(false),
        },
      };
    case 'cli':
      return {
        // comlink (4 KB, used by `eval --protocol replay`) goes into the CLI's own files, as
        // it does into the browser bundles: the package then has no dependency at all, and
        // TF.js, which only the CLI imports, is an optional peer (package.json).
        ssr: { noExternal: ['comlink'] },
        build: {
          outDir,
          emptyOutDir: false,
          target: 'node20',
          ssr: resolve(root, 'cli/localrec.ts'),
          sourcemap,
          minify: false,
          rollupOptions: {
            output: {
              entryFileNames: 'cli.js',
              chunkFileNames: 'cli/[name]-[hash].js',
              banner: '#!/usr/bin/env node',
            },
          },
        },
      };
    case 'demo':
      return {
        root: resolve(root, 'demo'),
        base: './',
        publicDir: false,
        build: {
          outDir: resolve(root, 'dist-demo'),
          emptyOutDir: true,
          target: 'es2022',
          sourcemap: true,
          rollupOptions: {
            // The demo uses the built library exactly as a site would: served from ./lib/.
            external: [/^\.\/lib\//],
          },
        },
      };
    default:
      throw new Error(
        `vite.config.ts: unknown mode "${mode}" (lib | global | eval | eval-global | worker | cli | demo)`,
      );
  }
});
