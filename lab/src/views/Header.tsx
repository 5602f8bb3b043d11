/**
 * The top of the page: the title, the presets (the chapter's experiments in one click), the notice
 * line (dismissable), and the two lines on what to look for when a preset is set.
 */
import type { RunConfig } from '../../../src/run/config.js';
import { PRESETS } from '../state.js';

export function Header(p: { onPreset: (c: RunConfig) => void }) {
  return (
    <header>
      <h1>keel lab</h1>
      <p class="tagline">
        Train a network in your browser and watch it overfit, regularize, vanish and explode.
      </p>
      <nav class="presets" aria-label="presets">
        {PRESETS.map((preset) => (
          <button
            type="button"
            key={preset.id}
            data-preset={preset.id}
            title={preset.text.join(' ')}
            onClick={() => p.onPreset(preset.config)}
          >
            {preset.name}
          </button>
        ))}
      </nav>
    </header>
  );
}

export function Notice(p: { notice?: string; onDismiss: () => void }) {
  if (!p.notice) return null;
  return (
    <p class="notice" role="status">
      {p.notice}{' '}
      <button type="button" onClick={p.onDismiss} aria-label="dismiss">
        ×
      </button>
    </p>
  );
}

export function PresetText(p: { config: RunConfig }) {
  const preset = PRESETS.find((x) => JSON.stringify(x.config) === JSON.stringify(p.config));
  if (!preset) return null;
  return (
    <aside class="preset-text" id="preset-text">
      <b>{preset.name}.</b> {preset.text[0]} <em>{preset.text[1]}</em>
    </aside>
  );
}
