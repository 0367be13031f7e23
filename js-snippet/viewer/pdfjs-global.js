// pdf_viewer.mjs reads the library from globalThis.pdfjsLib when it is evaluated,
// so this module must be imported before it.
import * as pdfjsLib from 'pdfjs-dist';

globalThis.pdfjsLib = pdfjsLib;
export { pdfjsLib };
