// Script-tag entry (dist/localrec.global.js): the IIFE build assigns this module's
// exports to `window.LocalRec`. It records its own URL so the worker is found beside it.
import { setScriptBase } from './runtime/worker-url';

const current = typeof document !== 'undefined' ? document.currentScript : null;
if (current instanceof HTMLScriptElement && current.src) setScriptBase(current.src);

export * from './index';
