/**
 * The Sluice web console (docs/CONSOLE.md): a Preact single-page app served by the API itself at
 * /console, talking only to the public REST API through lib/client (its browser build), with the
 * user's bearer token. Built by scripts/build-console.mjs.
 */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './app.tsx';

render(<App />, document.getElementById('app')!);
