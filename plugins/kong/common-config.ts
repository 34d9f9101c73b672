// Config fields every policy plugin shares.
import { z } from 'zod';

export function failModeField(defaultMode: 'closed' | 'open') {
  return z
    .enum(['closed', 'open'])
    .default(defaultMode)
    .describe('What happens when the plugin itself fails: `closed` rejects the request with an OpenAI-shaped 5xx, `open` logs and lets it through without this policy.');
}
