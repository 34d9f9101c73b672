// semantic-cache's configuration: the zod schema is the source of truth; Kong's schema is derived from it.
import { z } from 'zod';
import { failModeField } from '../kong/common-config';

export const semanticCacheConfig = z.object({
  fail_mode: failModeField('open'),
});
export type SemanticCacheConfig = z.output<typeof semanticCacheConfig>;
