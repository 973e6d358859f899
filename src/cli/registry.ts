/** Every verb of the activityd command, in the order --help lists them. */
import { daemonVerbs } from './daemonCommands';
import { tenantVerbs } from './tenantCommands';
import { statusVerbs } from './statusCommand';
import { failedVerbs } from './failedCommands';
import { importVerbs } from './importCommand';
import { adminTokenVerbs } from './adminTokenCommand';
import type { Verb } from './verb';

export const VERBS: Verb[] = [...daemonVerbs, ...tenantVerbs, ...adminTokenVerbs, ...statusVerbs, ...failedVerbs, ...importVerbs];
