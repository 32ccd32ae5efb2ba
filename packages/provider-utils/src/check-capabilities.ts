// The checker lives in core, which runs it in every publish preflight; providers reach it here,
// with the canonical rule list, so a provider package needs no import from core's internals.
export {
  CAPABILITY_RULES,
  capabilityRuleId,
  checkCapabilities,
  knownMediaSize,
  validatePost,
  type CapabilityRule,
} from '@letmepost/core/internal';
