// The page that tests/http/test_xform_engine.py drives: ODK Web Forms, a
// third-party XForm engine, renders the XForm that the server hands out,
// a person (the test, through Chromium's mouse and keyboard) fills it in,
// the engine serialises the instance, and the page sends the engine's own
// OpenRosa multipart payload to the server.
//
// The page is served on the server's origin (tests/http/chromium.py's Tab
// answers its URLs from this directory), so its requests to the server
// are same-origin. window.civcasEngine is what the test calls:
//
//   open({formUrl, submissionUrl, username, password, instanceXml})
//       fetches the form as an OpenRosa client does and renders it; with
//       instanceXml, opens that submitted instance for editing (the engine
//       moves its instanceID to deprecatedID and makes a new one).
//   locate(target)  scrolls a rendered element into view and returns the
//       CSS pixel to click on, checking nothing covers it.
//   focusField(question)  focuses a question's text box, its text selected.
//   waitSubmission(n)  resolves once the n-th submission got its answer.
//   resend(i)  posts the i-th payload again, byte for byte.

import { createApp, h } from 'vue';
import { OdkWebForm, webFormsPlugin } from '@getodk/web-forms';

const OPENROSA_HEADERS = { 'X-OpenRosa-Version': '1.0' };
const WAIT_STEP_MS = 25;

let app = null;
let settings = null;
const submissions = [];

function authHeaders() {
	if (settings.username == null) {
		return {};
	}
	// btoa takes Latin-1: encode the UTF-8 bytes first.
	const bytes = new TextEncoder().encode(`${settings.username}:${settings.password}`);
	const latin1 = String.fromCharCode(...bytes);
	return { Authorization: `Basic ${btoa(latin1)}` };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, test, timeoutMs = 20000) {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const value = test();
		if (value) {
			return value;
		}
		if (performance.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}
		await sleep(WAIT_STEP_MS);
	}
}

// Posts one engine payload (a FormData whose xml_submission_file part is
// the engine's serialised instance) the way an OpenRosa client does.
async function post(formData) {
	const response = await fetch(settings.submissionUrl, {
		method: 'POST',
		headers: { ...OPENROSA_HEADERS, ...authHeaders() },
		body: formData,
	});
	const file = formData.get('xml_submission_file');
	return {
		status: response.status,
		contentType: response.headers.get('Content-Type'),
		openRosaVersion: response.headers.get('X-OpenRosa-Version'),
		body: await response.text(),
		xml: file ? await file.text() : null,
		fileName: file ? file.name : null,
		fileType: file ? file.type : null,
		parts: [...formData.keys()],
	};
}

function onSubmit(payload, callback) {
	const entry = { payload, result: null, error: null };
	submissions.push(entry);
	(async () => {
		try {
			entry.result = await post(payload.data[0]);
			entry.result.engineStatus = payload.status;
			entry.result.submissionAction = payload.submissionMeta?.submissionAction?.href ?? null;
		} catch (error) {
			entry.error = String(error);
		}
		// Keep the filled form on screen: no POST_SUBMIT__NEW_INSTANCE.
		callback();
	})();
}

async function open(options) {
	settings = options;
	const response = await fetch(options.formUrl, {
		headers: { ...OPENROSA_HEADERS, ...authHeaders() },
	});
	if (!response.ok) {
		throw new Error(`form download: HTTP ${response.status}`);
	}
	const formXml = await response.text();
	if (app) {
		app.unmount();
		app = null;
	}
	const props = {
		formXml,
		fetchFormAttachment: (url) => {
			throw new Error(`the form asked for an attachment: ${url}`);
		},
		onSubmit,
	};
	if (options.instanceXml != null) {
		props.editInstance = {
			resolveInstance: () => options.instanceXml,
			attachmentFileNames: [],
			resolveAttachment: (name) => {
				throw new Error(`the instance asked for an attachment: ${name}`);
			},
		};
	}
	app = createApp({ render: () => h(OdkWebForm, props) });
	app.use(webFormsPlugin);
	app.mount('#app');
	const status = await waitFor('the form to load', () =>
		document.querySelector('.form-initialization-status.ready, .form-initialization-status.error')
	);
	if (status.classList.contains('error')) {
		const dialog = document.querySelector('.form-load-failure-dialog');
		throw new Error(`the engine refused the form: ${dialog ? dialog.textContent : '(no message)'}`);
	}
	await waitFor('the questions', () => document.querySelector('.odk-form .question-container'));
	const title = document.querySelector('.odk-form h1');
	return { title: title ? title.textContent.trim() : null, formXml };
}

const text = (el) => (el ? el.textContent.replace(/\s+/g, ' ').trim() : '');

const panelTitle = (panel) => text(panel.querySelector('.panel-title h2'));

// Where a repeat's instances are drawn: in the panel of the group around
// it (repeat.group, that group's label) or in the form itself.
function repeatScope(repeat) {
	if (repeat.group == null) {
		return document.querySelector('.odk-form');
	}
	const panels = [...document.querySelectorAll('.odk-form .p-panel:not(.is-repeat)')].filter(
		(panel) => panelTitle(panel) === repeat.group
	);
	if (panels.length !== 1) {
		throw new Error(`${panels.length} groups "${repeat.group}" on screen`);
	}
	return panels[0];
}

// The rendered instances of a repeat ({group, title}: title, when the
// repeat has a label, is the one on each instance's panel).
function repeatPanels(repeat) {
	return [...repeatScope(repeat).querySelectorAll('.is-repeat')].filter(
		(panel) => repeat.title == null || panelTitle(panel) === repeat.title
	);
}

// The button that adds an instance to a repeat: "Add" and its label.
function addButton(repeat) {
	const want = repeat.title == null ? 'Add' : `Add ${repeat.title}`;
	const buttons = [...repeatScope(repeat).querySelectorAll('.button-add-instance')].filter(
		(b) => text(b) === want
	);
	if (buttons.length !== 1) {
		throw new Error(`${buttons.length} buttons "${want}" for ${JSON.stringify(repeat)}`);
	}
	return buttons[0];
}

// A question as a person finds it: by its label, in the form or in the
// index-th instance of a repeat.
function questionContainer(question) {
	let scope = document.querySelector('.odk-form');
	if (question.repeat) {
		const panels = repeatPanels(question.repeat);
		scope = panels[question.repeat.index];
		if (!scope) {
			throw new Error(`no instance ${question.repeat.index} of repeat ${JSON.stringify(question.repeat)} (${panels.length} rendered)`);
		}
	}
	const found = [...scope.querySelectorAll('.question-container')].filter((container) => {
		if (!question.repeat && container.closest('.is-repeat')) {
			return false;
		}
		return text(container.querySelector('.control-text label')) === question.label;
	});
	if (found.length !== 1) {
		const labels = [...scope.querySelectorAll('.question-container .control-text label')].map(text);
		throw new Error(`${found.length} questions labelled "${question.label}"; rendered: ${JSON.stringify(labels)}`);
	}
	return found[0];
}

function targetElement(target) {
	if (target.addTo != null) {
		return addButton(target.addTo);
	}
	if (target.button != null) {
		const buttons = [...document.querySelectorAll('.odk-form button')].filter(
			(b) => text(b) === target.button
		);
		if (buttons.length !== 1) {
			throw new Error(`${buttons.length} buttons "${target.button}"`);
		}
		return buttons[0];
	}
	if (target.overlayOption != null) {
		// PrimeVue's Select draws its list in an overlay under <body>.
		const options = [...document.querySelectorAll('.p-select-overlay .p-select-option')].filter(
			(o) => text(o) === target.overlayOption
		);
		if (options.length !== 1) {
			const shown = [...document.querySelectorAll('.p-select-overlay .p-select-option')].map(text);
			throw new Error(`${options.length} open list entries "${target.overlayOption}"; the list shows ${JSON.stringify(shown)}`);
		}
		return options[0];
	}
	const container = questionContainer(target.question);
	let el;
	if (target.option != null) {
		const input = [...container.querySelectorAll('input[type=radio], input[type=checkbox]')].find(
			(i) => i.value === target.option
		);
		if (!input) {
			const values = [...container.querySelectorAll('input[type=radio], input[type=checkbox]')].map((i) => i.value);
			throw new Error(`"${target.question.label}" offers no choice ${target.option}; offered: ${JSON.stringify(values)}`);
		}
		el = input;
	} else if (target.dropdown) {
		el = container.querySelector('.dropdown');
	} else {
		el = container.querySelector('input, textarea');
	}
	if (!el) {
		throw new Error(`"${target.question.label}" has no such control (${JSON.stringify(target)})`);
	}
	return el;
}

async function locate(target) {
	if (target.overlayOption != null) {
		// The list opens with a transition and fills as the engine answers.
		await waitFor(`"${target.overlayOption}" in the open list`, () =>
			[...document.querySelectorAll('.p-select-overlay .p-select-option')].some(
				(o) => text(o) === target.overlayOption
			), 5000).catch(() => null);
	}
	const el = targetElement(target);
	el.scrollIntoView({ block: 'center', inline: 'center' });
	const r = el.getBoundingClientRect();
	const x = r.left + r.width / 2;
	const y = r.top + r.height / 2;
	const hit = document.elementFromPoint(x, y);
	if (!hit || !(hit === el || el.contains(hit) || hit.contains(el))) {
		throw new Error(`the control for ${JSON.stringify(target)} is covered by <${hit ? hit.tagName : 'nothing'} class="${hit ? hit.className : ''}">`);
	}
	return { x, y, checked: el.checked ?? null };
}

// Focuses a question's text box with its current text selected, so that
// what is typed next replaces it.
function focusField(question) {
	const el = questionContainer(question).querySelector('input, textarea');
	if (!el) {
		throw new Error(`"${question.label}" has no text box`);
	}
	el.scrollIntoView({ block: 'center' });
	el.focus();
	el.select();
	return document.activeElement === el;
}

function fieldText(question) {
	const el = questionContainer(question).querySelector('input, textarea');
	return el ? el.value : null;
}

// Resolves once no calendar or drop-down list is open or fading out, so
// that the next click lands on the form, not on an overlay.
function settled() {
	return waitFor('the overlays to close', () =>
		!document.querySelector('.p-datepicker-panel, .p-select-overlay, .p-connected-overlay-leave-active')
	);
}

function repeatCount(repeat) {
	return repeatPanels(repeat).length;
}

// Resolves with the n-th submission's answer (n counts from 0) once the
// server answered; rejects with the engine's complaint when it refused to
// submit (a violated constraint or a required question left empty).
async function waitSubmission(n, timeoutMs = 20000) {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const entry = submissions[n];
		if (entry && (entry.result || entry.error)) {
			if (entry.error) {
				throw new Error(`posting the submission failed: ${entry.error}`);
			}
			return entry.result;
		}
		const banner = document.querySelector('.form-error-message');
		if (!entry && banner) {
			const flagged = [...document.querySelectorAll('.question-container.highlight')].map(
				(c) => `${text(c.querySelector('.control-text label'))}: ${text(c.querySelector('.validation-message'))}`
			);
			throw new Error(`the engine refused to submit: ${text(banner)} ${JSON.stringify(flagged)}`);
		}
		if (performance.now() > deadline) {
			throw new Error(`no answer to submission ${n}`);
		}
		await sleep(WAIT_STEP_MS);
	}
}

async function resend(i) {
	return post(submissions[i].payload.data[0]);
}

window.civcasEngine = {
	open,
	locate,
	focusField,
	fieldText,
	repeatCount,
	settled,
	waitSubmission,
	resend,
	waitFor,
	submissionCount: () => submissions.length,
	ready: true,
};
