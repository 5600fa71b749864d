// In development the token panel also mints a token (POST /ide/dev-token, the same endpoint as
// the IDE's token bar), so a newcomer needs no terminal. The service says whether it mints
// (GET /ide/dev-token): in production the endpoint does not exist and the panel stays as it is.
import { devTokenRoles, mintToken } from '../../ide/src/devTokenClient.js';
import { ApiError } from './api.js';
import { errorNotice } from './context.js';
import { byId, h, replace } from './dom.js';

/** Roles ticked at first: enough to propose and approve, as in the README's first steps. */
const DEFAULT_ROLES: ReadonlySet<string> = new Set(['plan-proposer', 'plan-approver']);

/** Shows the mint form when this service mints tokens; `connect` receives each minted token. */
export async function offerDevTokens(connect: (token: string) => Promise<void>): Promise<void> {
  const roles = await devTokenRoles();
  if (!roles) return;
  const form = byId<HTMLFormElement>('mint-form');
  const tenant = byId<HTMLInputElement>('mint-tenant');
  const sub = byId<HTMLInputElement>('mint-sub');
  const error = byId('mint-error');
  const submit = byId<HTMLButtonElement>('mint-submit');
  const boxes = roles.map((role) => h('input', { type: 'checkbox', id: `mint-role-${role}`, name: 'roles', value: role, checked: DEFAULT_ROLES.has(role) }));
  byId('mint-roles').append(...boxes.map((box) => h('div', { class: 'checkbox' }, box, h('label', { for: box.id }, box.value))));
  form.hidden = false;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    replace(error);
    const request = { tenant: tenant.value.trim(), sub: sub.value.trim(), roles: boxes.filter((b) => b.checked).map((b) => b.value) };
    void mintToken(request)
      .then(async (result) => {
        if (result.ok) await connect(result.minted.token);
        else replace(error, errorNotice(new ApiError('BAD_USER_INPUT', result.message), 'Minting a token'));
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
}
