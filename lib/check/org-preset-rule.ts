import { MANIFEST_PATH, type Manifest } from '../manifest.js';
import { ORG_PRESET_ENV, type Preset, PRESET_SECTIONS, presetLabel, sortedJson } from '../preset.js';
import type { FindingSink } from './findings.js';

/**
 * CHS-PRE-007: the preset a CI check enforces is the organisation's (--preset, or the CREATE_HARDENED_SERVICE_PRESET
 * variable the platform team sets), not whatever the service's manifest says; a manifest that dropped or changed its
 * preset, or was deleted, is reported instead of switching the preset rules off.
 */
export function checkOrgPreset(manifest: Manifest | undefined, manifestExists: boolean, orgPreset: Preset | undefined, sink: FindingSink): void {
  if (!orgPreset) {
    sink.skip('CHS-PRE-007', `no organisation preset given (--preset or ${ORG_PRESET_ENV}): the service's own manifest names the preset it is held to`);
    return;
  }
  const org = `the organisation's preset ${presetLabel(orgPreset)}`;
  if (!manifestExists) {
    sink.add({ ruleId: 'CHS-PRE-007', level: 'error', file: MANIFEST_PATH, message: `missing: ${org} applies to services this generator made, and nothing shows which answers this one was made with` });
    return;
  }
  if (!manifest) return; // CHS-MANIFEST-001 reports why it cannot be read
  if (!manifest.preset) {
    sink.add({ ruleId: 'CHS-PRE-007', level: 'error', file: MANIFEST_PATH, message: `records no preset, but ${org} is pinned for this service: restore "preset" (run upgrade, which records it)` });
    return;
  }
  const recorded = manifest.preset as unknown as Record<string, unknown>;
  const differs = PRESET_SECTIONS.filter((k) => sortedJson(recorded[k]) !== sortedJson(orgPreset[k]));
  if (differs.length) {
    sink.add({ ruleId: 'CHS-PRE-007', level: 'error', file: MANIFEST_PATH, message: `records preset ${String(recorded.name ?? recorded.source)}, which differs from ${org} in ${differs.join(', ')}: run upgrade with the organisation's preset` });
  }
}
