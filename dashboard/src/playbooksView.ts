// The tenant's playbook (docs/playbooks.md): the version in force, the history with its
// authors, the difference of two versions, and for plan-admins a draft editor and the publish
// and retire buttons. The section adds itself to the dashboard.
import { gql } from './api.js';
import type { AppContext } from './context.js';
import { errorNotice } from './context.js';
import { h, replace, uid } from './dom.js';
import { statusBadge, timeEl } from './format.js';
import {
  DRAFT_PLAYBOOK,
  PLAYBOOK_DIFF,
  PLAYBOOK_VERSIONS,
  PUBLISH_PLAYBOOK,
  RETIRE_PLAYBOOK,
  type DashboardPlaybookDiffQuery,
  type DashboardPlaybookVersionsQuery,
  type PlaybookVersion,
} from './playbookQueries.js';

export class PlaybooksView {
  private readonly summary = h('p', { id: 'playbook-in-force' });
  private readonly history = h('div', { id: 'playbook-history', class: 'table-scroll' });
  private readonly diffOut = h('div', { id: 'playbook-diff', 'aria-live': 'polite' });
  private readonly fromSelect: HTMLSelectElement;
  private readonly toSelect: HTMLSelectElement;
  private readonly editor = h('section', { id: 'playbook-editor', 'aria-labelledby': 'playbook-editor-heading', hidden: true });
  private readonly draftText: HTMLTextAreaElement;
  private readonly draftNote: HTMLInputElement;
  private readonly editorOut = h('div', { id: 'playbook-editor-result' });
  private versions: PlaybookVersion[] = [];

  constructor(
    dashboard: HTMLElement,
    private readonly ctx: AppContext,
  ) {
    const fromId = uid('playbook-from');
    const toId = uid('playbook-to');
    this.fromSelect = h('select', { id: fromId, name: 'from' });
    this.toSelect = h('select', { id: toId, name: 'to' });
    const textId = uid('playbook-draft');
    const noteId = uid('playbook-note');
    this.draftText = h('textarea', { id: textId, name: 'draft', rows: 16, spellcheck: 'false', class: 'mono' });
    this.draftNote = h('input', { id: noteId, name: 'note', type: 'text', maxlength: 500 });
    replace(
      this.editor,
      h('h3', { id: 'playbook-editor-heading' }, 'Draft a new version'),
      h('p', { class: 'muted small' }, 'The published version as PlanTypeConfigInput (JSON). Another plan-admin publishes the draft.'),
      h('div', { class: 'field' }, h('label', { for: textId }, 'Version (JSON)'), this.draftText),
      h('div', { class: 'field' }, h('label', { for: noteId }, 'Note'), this.draftNote),
      h('div', { class: 'button-row' }, h('button', { type: 'button', id: 'playbook-save-draft', onClick: () => void this.saveDraft() }, 'Save draft')),
      this.editorOut,
    );
    const section = h(
      'section',
      { id: 'playbook-section', class: 'panel', 'aria-labelledby': 'playbook-heading' },
      h('h2', { id: 'playbook-heading' }, 'Playbook · RENEWAL_DEFENSE'),
      this.summary,
      h('h3', {}, 'Versions'),
      this.history,
      h('h3', {}, 'Compare two versions'),
      h(
        'div',
        { class: 'button-row' },
        h('div', { class: 'field inline' }, h('label', { for: fromId }, 'Compare from'), this.fromSelect),
        h('div', { class: 'field inline' }, h('label', { for: toId }, 'Compare to'), this.toSelect),
        h('button', { type: 'button', class: 'secondary', id: 'playbook-compare', onClick: () => void this.compare() }, 'Compare'),
      ),
      this.diffOut,
      this.editor,
    );
    dashboard.append(section);
  }

  async reload(): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    try {
      this.versions = (await gql<DashboardPlaybookVersionsQuery>(PLAYBOOK_VERSIONS, {}, token)).planTypeConfigVersions;
    } catch (e) {
      this.ctx.fail(e, this.history, 'Loading the playbook');
      return;
    }
    const inForce = this.versions.find((v) => v.status === 'PUBLISHED');
    replace(
      this.summary,
      'In force: ',
      h('strong', { id: 'playbook-version-in-force' }, `version ${inForce?.version ?? 0}`),
      inForce?.publishedBy ? ` · published by ${inForce.publishedBy}` : ' · the built-in default',
    );
    this.renderHistory();
    const options = () => this.versions.map((v) => h('option', { value: v.version }, `v${v.version} (${v.status.toLowerCase()})`));
    replace(this.fromSelect, ...options());
    replace(this.toSelect, ...options());
    // Default comparison: what is in force against the newest version.
    this.fromSelect.value = String(inForce?.version ?? 0);
    this.toSelect.value = String(this.versions[0]?.version ?? 0);
    const admin = this.ctx.can('plan-admin');
    this.editor.hidden = !admin;
    if (admin && inForce) this.draftText.value = JSON.stringify(asInput(inForce), null, 2);
  }

  private renderHistory(): void {
    const admin = this.ctx.can('plan-admin');
    const me = this.ctx.viewer()?.sub;
    const rows = this.versions.map((v) =>
      h(
        'tr',
        { 'data-version': v.version, 'data-status': v.status },
        h('td', {}, `v${v.version}`),
        h('td', {}, statusBadge(v.status)),
        h('td', {}, v.createdBy, v.version === 0 ? null : h('span', { class: 'muted small block' }, timeEl(v.createdAt))),
        h('td', {}, v.publishedBy ?? '—', v.publishedAt ? h('span', { class: 'muted small block' }, timeEl(v.publishedAt)) : null),
        h('td', {}, v.note ?? ''),
        h(
          'td',
          {},
          admin && v.status === 'DRAFT'
            ? h(
                'div',
                { class: 'button-row' },
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'small',
                    'aria-label': `Publish version ${v.version}`,
                    title: v.createdBy === me ? 'Another plan-admin publishes your draft' : null,
                    onClick: () => void this.act(PUBLISH_PLAYBOOK, v.version, 'Publishing'),
                  },
                  'Publish',
                ),
                h('button', { type: 'button', class: 'secondary small', 'aria-label': `Retire version ${v.version}`, onClick: () => void this.act(RETIRE_PLAYBOOK, v.version, 'Retiring') }, 'Retire'),
              )
            : null,
        ),
      ),
    );
    replace(
      this.history,
      h(
        'table',
        { class: 'data-table', id: 'playbook-versions' },
        h('caption', { class: 'visually-hidden' }, 'Playbook versions, newest first'),
        h('thead', {}, h('tr', {}, ...['Version', 'Status', 'Author', 'Published by', 'Note', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...rows),
      ),
    );
  }

  private async act(mutation: string, version: number, action: string): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    try {
      await gql(mutation, { version }, token);
      this.ctx.announce(`${action} version ${version}: done.`, 'success');
      replace(this.editorOut);
      await this.reload();
    } catch (e) {
      this.ctx.fail(e, this.editorOut, `${action} version ${version}`);
      this.editorOut.scrollIntoView({ block: 'nearest' });
    }
  }

  private async compare(): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    const from = Number(this.fromSelect.value);
    const to = Number(this.toSelect.value);
    try {
      const changes = (await gql<DashboardPlaybookDiffQuery>(PLAYBOOK_DIFF, { from, to }, token)).planTypeConfigDiff;
      replace(
        this.diffOut,
        changes.length === 0
          ? h('p', { class: 'muted' }, `v${from} and v${to} say the same.`)
          : h(
              'ul',
              { class: 'diff-list' },
              ...changes.map((c) => h('li', { 'data-path': c.path }, h('code', {}, c.path), ': ', h('span', { class: 'before' }, show(c.before)), ' → ', h('span', { class: 'after' }, show(c.after)))),
            ),
      );
    } catch (e) {
      this.ctx.fail(e, this.diffOut, 'Comparing versions');
    }
  }

  private async saveDraft(): Promise<void> {
    const token = this.ctx.token();
    if (!token) return;
    let input: unknown;
    try {
      input = JSON.parse(this.draftText.value);
    } catch {
      replace(this.editorOut, h('p', { class: 'notice error', role: 'alert' }, 'The version is not valid JSON.'));
      return;
    }
    const basedOn = this.versions.find((v) => v.status === 'PUBLISHED')?.version ?? 0;
    try {
      await gql(DRAFT_PLAYBOOK, { input, basedOn, note: this.draftNote.value.trim() || null }, token);
      this.ctx.announce('Draft saved.', 'success');
      replace(this.editorOut);
      await this.reload();
    } catch (e) {
      replace(this.editorOut, errorNotice(e, 'Saving the draft'));
      this.ctx.fail(e, null, 'Saving the draft');
    }
  }
}

const show = (value: unknown): string => (value === null || value === undefined ? '(none)' : JSON.stringify(value));

/** A version's config as PlanTypeConfigInput (the editor's starting text). */
function asInput(v: PlaybookVersion): Record<string, unknown> {
  const { config } = v;
  return {
    allowedStepActionTypes: config.allowedStepActionTypes,
    defaultSequence: config.defaultSequence,
    objectiveTemplate: config.objectiveTemplate,
    expiresAtDaysFromCreation: config.expiresAtDaysFromCreation,
    stepSchedule: config.stepSchedule,
    stepDescriptions: config.stepDescriptions,
    gatePolicy: config.gatePolicy,
    rules: config.rules,
  };
}
