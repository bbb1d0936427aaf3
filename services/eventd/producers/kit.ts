// Small helpers for module producers, built-in or a user's: import them from
// the daemon's producer kit rather than copying them into each plugin.
import { readFile } from 'node:fs/promises';

/** The file's text, or undefined when it does not exist (a kernel without the feature, an interface gone since it was listed). */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
