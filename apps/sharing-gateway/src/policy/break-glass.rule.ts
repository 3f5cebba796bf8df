import type { BreakGlassWindowFacts, PolicyConfig, UserFacts } from './policy.types';
import { instant } from './validity.rule';

/** Only the configured roles may use the safeguarding override (DESIGN.md, step 5). */
export function mayUseOverride(user: UserFacts, config: PolicyConfig): boolean {
  return user.roles.some((role) => config.breakGlassRoles.includes(role));
}

/**
 * The override window open at `at` (opens inclusive, closes exclusive); when several are open,
 * the one closing last, the earliest listed on a tie so the answer is reproducible on replay.
 */
export function openWindow(
  windows: BreakGlassWindowFacts[],
  at: Date,
): BreakGlassWindowFacts | null {
  const t = at.getTime();
  let chosen: BreakGlassWindowFacts | null = null;
  for (const candidate of windows) {
    if (!(instant(candidate.opensAt) <= t && t < instant(candidate.closesAt))) continue;
    if (chosen === null || instant(candidate.closesAt) > instant(chosen.closesAt)) {
      chosen = candidate;
    }
  }
  return chosen;
}
