/**
 * Which notebook or console the panel follows: the one the user last
 * focused, kept while focus is elsewhere (the panel itself, the file
 * browser), dropped when it closes.
 */
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import type { IKernelSource } from './model';

/**
 * A widget with a session: a notebook panel or a console panel.
 */
export interface ISessionWidget extends Widget {
  readonly sessionContext: IKernelSource;
}

/**
 * What is needed from INotebookTracker and IConsoleTracker.
 */
export interface ISessionWidgetTracker {
  readonly currentWidget: ISessionWidget | null;
  readonly currentChanged: ISignal<unknown, ISessionWidget | null>;
  has(widget: Widget): boolean;
}

/**
 * What is needed from the application shell.
 */
export interface IShellLike {
  readonly currentWidget: Widget | null;
  readonly currentChanged?: ISignal<unknown, unknown>;
}

/**
 * Calls back with the session of the notebook or console in front of the
 * user whenever that changes.
 */
export class ActiveSessionFollower {
  constructor(options: ActiveSessionFollower.IOptions) {
    this._trackers = options.trackers;
    this._shell = options.shell;
    this._onChange = options.onChange;
    for (const tracker of this._trackers) {
      tracker.currentChanged.connect(this._onTrackerChanged, this);
    }
    this._shell.currentChanged?.connect(this._onShellChanged, this);
    this._update(this._initial());
  }

  /**
   * The widget whose session is followed.
   */
  get current(): ISessionWidget | null {
    return this._current;
  }

  dispose(): void {
    for (const tracker of this._trackers) {
      tracker.currentChanged.disconnect(this._onTrackerChanged, this);
    }
    this._shell.currentChanged?.disconnect(this._onShellChanged, this);
    this._current?.disposed.disconnect(this._onCurrentDisposed, this);
    this._current = null;
  }

  private _initial(): ISessionWidget | null {
    const shellWidget = this._shell.currentWidget;
    for (const tracker of this._trackers) {
      if (shellWidget && tracker.has(shellWidget)) {
        return shellWidget as ISessionWidget;
      }
    }
    for (const tracker of this._trackers) {
      if (tracker.currentWidget) {
        return tracker.currentWidget;
      }
    }
    return null;
  }

  private _onTrackerChanged(_: unknown, widget: ISessionWidget | null): void {
    if (widget) {
      // A tracker's current widget changes when it gains focus.
      const shellWidget = this._shell.currentWidget;
      if (
        !shellWidget ||
        shellWidget === widget ||
        !this._isTracked(shellWidget)
      ) {
        this._update(widget);
      }
      return;
    }
    // The tracker lost its last widget: fall back to the other trackers.
    if (this._current && !this._isTracked(this._current)) {
      this._update(this._fallback());
    }
  }

  private _onShellChanged(): void {
    const widget = this._shell.currentWidget;
    if (widget && this._isTracked(widget)) {
      this._update(widget as ISessionWidget);
    }
  }

  private _onCurrentDisposed(): void {
    this._current = null;
    this._update(this._fallback());
  }

  private _fallback(): ISessionWidget | null {
    for (const tracker of this._trackers) {
      const widget = tracker.currentWidget;
      if (widget && !widget.isDisposed && widget !== this._current) {
        return widget;
      }
    }
    return null;
  }

  private _isTracked(widget: Widget): boolean {
    return this._trackers.some(t => t.has(widget));
  }

  private _update(widget: ISessionWidget | null): void {
    if (widget === this._current && widget !== null) {
      return;
    }
    this._current?.disposed.disconnect(this._onCurrentDisposed, this);
    this._current = widget;
    widget?.disposed.connect(this._onCurrentDisposed, this);
    this._onChange(widget);
  }

  private _trackers: ISessionWidgetTracker[];
  private _shell: IShellLike;
  private _onChange: (widget: ISessionWidget | null) => void;
  private _current: ISessionWidget | null = null;
}

export namespace ActiveSessionFollower {
  export interface IOptions {
    trackers: ISessionWidgetTracker[];
    shell: IShellLike;
    onChange: (widget: ISessionWidget | null) => void;
  }
}
