// The sessions list's owner filter (admins and viewers, who see everyone's sessions): every
// owner seen in the list (and, for admins, every user) as an option; the list is read from
// GET /sessions?owner= and drawn with that owner's sessions only. Members see theirs only: no filter.

import { el } from './dom.js';

export class OwnerFilter {
  constructor(select, parts) {
    this.select = select;
    this.parts = [...parts];  // the select and its label, hidden unless enabled
    this.names = new Set();
    this.enabled = false;
  }

  enable(on) {
    this.enabled = on;
    for (const part of this.parts) part.hidden = !on;
  }

  reset() {
    this.enable(false);
    this.names.clear();
    this.select.replaceChildren(this.select.options[0]);
    this.select.value = '';
  }

  // The chosen owner ('' or null: everyone's sessions).
  value() {
    return this.enabled ? this.select.value || null : null;
  }

  // Offer these names too (nulls ignored), in alphabetical order.
  add(names) {
    const fresh = names.filter((name) => name && !this.names.has(name));
    if (!fresh.length) return;
    fresh.forEach((name) => this.names.add(name));
    const chosen = this.select.value;
    const everyone = this.select.options[0];
    const sorted = [...this.names].sort((a, b) => a.localeCompare(b));
    this.select.replaceChildren(everyone, ...sorted.map((name) => el('option', { value: name }, name)));
    this.select.value = chosen;
  }
}
