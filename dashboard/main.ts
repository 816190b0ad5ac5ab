import { h, replaceChildren } from './dom.js';
import { jobDetailView } from './job-detail.js';
import { filtersOf, jobsView } from './jobs.js';
import { FigureFeed, overviewView } from './overview.js';
import { forgetSession, logIn, resumeSession, type Session } from './session.js';
import { tryRouteView } from './try-route.js';

/*
 * The dashboard's entry: the login form when the server wants one, then a view per hash route
 * (#/ overview, #/jobs list, #/jobs/{id} detail, #/try). The page's state for tests and for
 * people alike is in the DOM: data-view on <main>, data-status on rows and the detail.
 */

interface View {
  element: HTMLElement;
  dispose: () => void;
}

const main = document.querySelector('main')!;
const nav = document.querySelector<HTMLElement>('nav.top')!;
const who = document.querySelector('#who')!;
let current: View | null = null;
let session: Session | null = null;
let feed: FigureFeed | null = null;
let flash: string | null = null;

function show(view: View): void {
  current?.dispose();
  current = view;
  main.dataset.view = view.element.dataset.view ?? '';
  const message = flash === null ? null : h('p', { class: 'flash', attrs: { role: 'status' } }, flash);
  flash = null;
  replaceChildren(main, message, view.element);
}

function route(): void {
  if (session === null) return;
  const [path, queryText = ''] = location.hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(queryText);
  for (const link of nav.querySelectorAll('a')) link.classList.toggle('active', link.getAttribute('href') === `#${path.split('/').slice(0, 2).join('/') || '/'}`);
  const detail = /^\/jobs\/(\d+)$/.exec(path);
  if (detail !== null) {
    show(jobDetailView(session, detail[1], (message) => {
      flash = message;
      location.hash = '#/jobs';
    }));
  } else if (path === '/jobs') {
    show(jobsView(session, filtersOf(query)));
  } else if (path === '/try') {
    show(tryRouteView(session, (id) => (location.hash = `#/jobs/${id}`)));
  } else {
    show(overviewView(feed!));
  }
}

function start(next: Session): void {
  session = next;
  nav.hidden = false;
  feed = new FigureFeed(next);
  feed.start();
  replaceChildren(who,
    next.username === null ? 'authentication off' : h('span', { dataset: { user: next.username } }, next.username, next.superuser ? ' (superuser)' : ''),
    next.token === null ? null : h('button', { class: 'secondary', attrs: { type: 'button' }, on: { click: logOut } }, 'Log out'));
  document.body.dataset.user = next.username ?? '';
  document.body.dataset.superuser = String(next.superuser);
  route();
}

function logOut(): void {
  forgetSession();
  feed?.stop();
  current?.dispose();
  current = null;
  session = null;
  nav.hidden = true;
  replaceChildren(who);
  showLogin(null);
}

function showLogin(problem: string | null): void {
  const username = h('input', { attrs: { name: 'username', autocomplete: 'username', required: true, 'aria-label': 'User name' } });
  const password = h('input', { attrs: { name: 'password', type: 'password', autocomplete: 'current-password', 'aria-label': 'Password' } });
  const message = h('p', { class: 'notice', attrs: { role: 'alert', hidden: problem === null } }, problem ?? '');
  const button = h('button', { attrs: { type: 'submit' } }, 'Log in');
  const form = h('form', { class: 'login', on: { submit: (event) => {
    event.preventDefault();
    button.disabled = true;
    logIn(username.value, password.value).then(start, (error: Error & { status?: number }) => {
      button.disabled = false;
      message.hidden = false;
      message.textContent = error.status === 401 ? 'Wrong user name or password.' : `Cannot log in: ${error.message}`;
    });
  } } },
  h('h1', {}, 'Log in'),
  h('p', { class: 'hint' }, 'This server has authentication on. The token stays in this tab only (session storage).'),
  h('label', { class: 'block' }, 'User name', username),
  h('label', { class: 'block' }, 'Password', password),
  message, button);
  main.dataset.view = 'login';
  replaceChildren(main, form);
  username.focus();
}

window.addEventListener('hashchange', route);
resumeSession().then((resumed) => (resumed === null ? showLogin(null) : start(resumed)), (error: Error) => {
  main.dataset.view = 'error';
  replaceChildren(main, h('p', { class: 'notice' }, `Cannot reach the server: ${error.message}`));
});
