// A button that opens an inline form asking for one text (a reason, a note, a user id): the
// abort button's reason and the step-work forms. Escape or Cancel closes it and gives focus
// back to the button; an empty required text is refused in the page (aria-invalid).
import { h, uid } from './dom.js';

export interface AskFormOptions {
  /** The attribute naming the buttons' actions for scripts and tests, e.g. data-action. */
  actionAttribute: string;
  action: string;
  wrapperClass: string;
  formClass: string;
  opener: string;
  openerClass: string;
  /** An accessible name for the opener and the form. */
  name: string;
  label: string;
  hint?: string;
  required: boolean;
  initial?: string;
  submit: string;
  submitClass: string;
  onMissing: () => void;
  onSubmit: (text: string, button: HTMLButtonElement | null) => void;
}

export function askForm(o: AskFormOptions): HTMLElement {
  const attr = (action: string) => ({ [o.actionAttribute]: action });
  const open = h('button', { type: 'button', class: o.openerClass, ...attr(`${o.action}-open`), 'aria-expanded': 'false', 'aria-label': o.name }, o.opener);
  const inputId = uid(`${o.action}-text`);
  const hintId = o.hint ? uid(`${o.action}-hint`) : null;
  const input = h('input', { id: inputId, name: o.action, type: 'text', required: o.required, maxlength: 1000, autocomplete: 'off', value: o.initial ?? '', ...(hintId ? { 'aria-describedby': hintId } : {}) });
  const submit = h('button', { type: 'submit', class: o.submitClass, ...attr(o.action) }, o.submit);
  const form = h(
    'form',
    { class: o.formClass, hidden: true, novalidate: true, 'aria-label': o.name },
    h('label', { for: inputId }, o.label),
    input,
    hintId ? h('p', { id: hintId, class: 'small muted' }, o.hint) : null,
    h('div', { class: 'button-row' }, submit, h('button', { type: 'button', class: 'secondary', ...attr(`${o.action}-cancel`), onClick: () => close() }, 'Cancel')),
  );
  const close = () => {
    form.hidden = true;
    open.setAttribute('aria-expanded', 'false');
    open.focus();
  };
  open.addEventListener('click', () => {
    form.hidden = false;
    open.setAttribute('aria-expanded', 'true');
    input.focus();
  });
  form.addEventListener('keydown', (event) => {
    if ((event as KeyboardEvent).key === 'Escape') close();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (o.required && !text) {
      input.setAttribute('aria-invalid', 'true');
      o.onMissing();
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    o.onSubmit(text, submit);
  });
  return h('div', { class: o.wrapperClass }, open, form);
}
