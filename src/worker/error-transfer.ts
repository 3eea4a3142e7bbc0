// LocalRecError across the worker boundary. Comlink sends a thrown Error as its message,
// name and stack only, so a caller could no longer test `error.code`. This replaces
// Comlink's "throw" transfer handler with one that sends a LocalRecError (or its cloned
// shape) as its JSON form and throws a LocalRecError, with code and details, on the other
// side; any other thrown value goes through Comlink's own handler unchanged. Both ends
// install it: the worker before `expose`, the page before `wrap`.
import { type TransferHandler, transferHandlers } from 'comlink';
import { isLocalRecErrorLike, LocalRecError } from '../core/errors';

type Thrown = { value: unknown };
type Wire = { localRecError: ReturnType<LocalRecError['toJSON']> } | unknown;

let installed = false;

/** Install the handler in this realm's Comlink (idempotent). */
export function installErrorTransfer(): void {
  if (installed) return;
  const comlinkThrow = transferHandlers.get('throw') as TransferHandler<Thrown, unknown>;
  const handler: TransferHandler<Thrown, Wire> = {
    canHandle: (value): value is Thrown => comlinkThrow.canHandle(value),
    serialize(thrown) {
      const error = thrown.value;
      if (isLocalRecErrorLike(error)) {
        return [{ localRecError: LocalRecError.fromJSON(error)!.toJSON() }, []];
      }
      return comlinkThrow.serialize(thrown);
    },
    deserialize(wire) {
      if (typeof wire === 'object' && wire !== null && 'localRecError' in wire) {
        throw LocalRecError.fromJSON(wire.localRecError) ?? wire.localRecError;
      }
      return comlinkThrow.deserialize(wire);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
  installed = true;
}
