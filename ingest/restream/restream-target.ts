/** A restream output as configured: shared with the platform's registry (shared/restream-target.ts). */
export { MAX_OUTPUTS_PER_STREAM, outputKeyProblem, outputUrlProblem, publishUrl, redact, redactedUrl, type RestreamTarget } from '../../shared/restream-target.ts';
