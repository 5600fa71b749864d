// The development GraphQL IDE: GraphiQL, bundled with Monaco and its workers and served by this
// service (no CDN), with the examples of docs/operations.graphql as tabs and a bar that mints or
// takes a development token. The fetcher adds that token unless the tab's headers set their own.
import './workers.js';
import 'graphiql/style.css';
import { GraphiQL } from 'graphiql';
import { createElement as h, StrictMode, useEffect, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { mintToken, type MintedToken } from './devTokenClient.js';
import { exampleTabs } from './exampleTabs.js';

const ROLES = ['plan-viewer', 'plan-proposer', 'plan-approver'] as const;

/** The token the fetcher sends; a module variable so the fetcher (and the loaded schema) stays put. */
let currentToken = '';

type FetcherParams = { query: string; operationName?: string | null; variables?: unknown };
type FetcherOptions = { headers?: Record<string, unknown> };

async function fetcher(params: FetcherParams, options?: FetcherOptions): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  for (const [key, value] of Object.entries(options?.headers ?? {})) headers[key.toLowerCase()] = String(value);
  if (currentToken && !headers['authorization']) headers['authorization'] = `Bearer ${currentToken}`;
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params) });
  return res.json();
}

function TokenBar(props: { onToken: (minted: MintedToken | null) => void }) {
  const [tenant, setTenant] = useState('t1');
  const [sub, setSub] = useState('dev-user');
  const [roles, setRoles] = useState<string[]>(['plan-proposer', 'plan-approver']);
  const [status, setStatus] = useState<{ kind: 'ok' | 'error' | 'busy'; text: string }>({ kind: 'busy', text: 'minting a development token…' });
  const [pasted, setPasted] = useState('');

  const mint = async () => {
    setStatus({ kind: 'busy', text: 'minting…' });
    const result = await mintToken({ tenant, sub, roles });
    if (result.ok) {
      currentToken = result.minted.token;
      props.onToken(result.minted);
      setStatus({ kind: 'ok', text: `sending a token for ${result.minted.sub} in ${result.minted.tenant} (${result.minted.roles.join(', ')}), valid until ${result.minted.expiresAt.slice(11, 16)} UTC` });
    } else {
      setStatus({ kind: 'error', text: `no token minted: ${result.message}` });
    }
  };
  useEffect(() => {
    void mint();
    // Mint once on load with the defaults; later mints come from the button.
  }, []);

  const onMint = (e: FormEvent) => {
    e.preventDefault();
    void mint();
  };
  const onPaste = (e: FormEvent) => {
    e.preventDefault();
    currentToken = pasted.trim().replace(/^Bearer\s+/i, '');
    props.onToken(null);
    setStatus(currentToken ? { kind: 'ok', text: 'sending the pasted token' } : { kind: 'error', text: 'no token: requests go without Authorization' });
  };
  const sandbox = `https://studio.apollographql.com/sandbox/explorer?endpoint=${encodeURIComponent(`${location.origin}/graphql`)}`;

  return h(
    'header',
    { className: 'ide-bar' },
    h('strong', { className: 'ide-title' }, 'Renewal-defense GraphQL'),
    h(
      'form',
      { className: 'ide-mint', onSubmit: onMint, 'aria-label': 'Mint a development token' },
      h('label', null, 'Tenant ', h('input', { name: 'tenant', value: tenant, size: 8, onChange: (e: { target: HTMLInputElement }) => setTenant(e.target.value) })),
      h('label', null, 'Sub ', h('input', { name: 'sub', value: sub, size: 8, onChange: (e: { target: HTMLInputElement }) => setSub(e.target.value) })),
      h(
        'fieldset',
        null,
        h('legend', null, 'Roles'),
        ...ROLES.map((role) =>
          h(
            'label',
            { key: role },
            h('input', {
              type: 'checkbox',
              name: 'roles',
              value: role,
              checked: roles.includes(role),
              onChange: (e: { target: HTMLInputElement }) => setRoles((now) => (e.target.checked ? [...now, role] : now.filter((r) => r !== role))),
            }),
            ` ${role.replace('plan-', '')}`,
          ),
        ),
      ),
      h('button', { type: 'submit' }, 'Mint token'),
    ),
    h(
      'form',
      { className: 'ide-paste', onSubmit: onPaste, 'aria-label': 'Use a token of your own' },
      h('label', null, 'or paste ', h('input', { name: 'token', value: pasted, placeholder: 'a JWT', size: 14, onChange: (e: { target: HTMLInputElement }) => setPasted(e.target.value) })),
      h('button', { type: 'submit' }, 'Use'),
    ),
    h('output', { id: 'ide-token-status', className: `ide-status ${status.kind}`, role: status.kind === 'error' ? 'alert' : 'status' }, status.text),
    h(
      'nav',
      { className: 'ide-links' },
      h('a', { href: '/dashboard/' }, 'Dashboard'),
      h('a', { href: sandbox, target: '_blank', rel: 'noreferrer', title: 'Apollo Sandbox loads from Apollo’s servers: needs internet' }, 'Apollo Sandbox (online)'),
    ),
  );
}

function App(props: { examples: string }) {
  const [, setMinted] = useState<MintedToken | null>(null);
  const tabs = exampleTabs(props.examples).map((tab) => ({ query: tab.query, variables: tab.variables }));
  return h(
    'div',
    { className: 'ide-root' },
    h(TokenBar, { onToken: setMinted }),
    h(
      'main',
      { className: 'ide-graphiql' },
      h(GraphiQL, {
        fetcher: fetcher as never,
        defaultTabs: tabs.length > 0 ? tabs : undefined,
        defaultEditorToolsVisibility: true,
        // The headers editor is for a token of your own: it wins over the bar's.
        defaultHeaders: '{}',
      }),
    ),
  );
}

async function start(): Promise<void> {
  const res = await fetch('/ide/operations.graphql').catch(() => null);
  const examples = res?.ok ? await res.text() : '';
  const root = document.getElementById('ide');
  if (!root) throw new Error('the IDE page has no #ide element');
  createRoot(root).render(h(StrictMode, null, h(App, { examples })));
}

void start();
