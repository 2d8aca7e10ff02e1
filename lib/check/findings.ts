import type { RuleId } from './rules.js';

export type FindingLevel = 'error' | 'warning';

/** One problem: which rule, where (file relative to the audited root, POSIX; line when known), what. */
export interface Finding {
  ruleId: RuleId;
  level: FindingLevel;
  file: string;
  line?: number;
  message: string;
}

/** A rule that could not be evaluated (nothing to check, or no preset): reported, never a failure. */
export interface Skip {
  ruleId: RuleId;
  reason: string;
}

/** Collects findings and skips, merging repeats of one finding seen in several chart renders. */
export class FindingSink {
  readonly findings: Finding[] = [];
  readonly skips: Skip[] = [];
  private readonly seen = new Map<string, { finding: Finding; notes: string[] }>();

  add(finding: Finding, note?: string): void {
    const key = `${finding.ruleId}\u0000${finding.file}\u0000${finding.line ?? ''}\u0000${finding.message}`;
    const existing = this.seen.get(key);
    if (existing) {
      if (note && !existing.notes.includes(note)) existing.notes.push(note);
      return;
    }
    const copy = { ...finding };
    this.seen.set(key, { finding: copy, notes: note ? [note] : [] });
    this.findings.push(copy);
  }

  skip(ruleId: RuleId, reason: string): void {
    if (!this.skips.some((s) => s.ruleId === ruleId)) this.skips.push({ ruleId, reason });
  }

  /** Findings with their render notes appended: `… (rendered with default values, chart/ci/prod.yaml)`. */
  result(): Finding[] {
    return [...this.seen.values()].map(({ finding, notes }) =>
      notes.length ? { ...finding, message: `${finding.message} (rendered with ${notes.join(', ')})` } : finding,
    );
  }
}
