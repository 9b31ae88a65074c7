import { Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import {
  ActiveSessionFollower,
  ISessionWidget,
  ISessionWidgetTracker
} from '../tracking';
import { FakeSession } from './fixtures/fakes';

class FakeTracker implements ISessionWidgetTracker {
  widgets: ISessionWidget[] = [];
  currentWidget: ISessionWidget | null = null;
  currentChanged = new Signal<this, ISessionWidget | null>(this);
  has(widget: Widget): boolean {
    return this.widgets.includes(widget as ISessionWidget);
  }
  add(widget: ISessionWidget): void {
    this.widgets.push(widget);
    widget.disposed.connect(() => {
      this.widgets = this.widgets.filter(w => w !== widget);
      if (this.currentWidget === widget) {
        this.focus(this.widgets[this.widgets.length - 1] ?? null);
      }
    });
  }
  focus(widget: ISessionWidget | null): void {
    this.currentWidget = widget;
    this.currentChanged.emit(widget);
  }
}

/**
 * Just enough of a Lumino widget (jsdom cannot load @lumino/widgets).
 */
class FakeWidget {
  disposed = new Signal<this, void>(this);
  isDisposed = false;
  sessionContext = new FakeSession().asSource;
  dispose(): void {
    this.isDisposed = true;
    this.disposed.emit();
  }
}

function sessionWidget(): ISessionWidget {
  return new FakeWidget() as unknown as ISessionWidget;
}

describe('ActiveSessionFollower', () => {
  let notebooks: FakeTracker;
  let consoles: FakeTracker;
  let shell: { currentWidget: Widget | null; currentChanged: Signal<any, any> };
  let seen: (ISessionWidget | null)[];
  let follower: ActiveSessionFollower;

  beforeEach(() => {
    notebooks = new FakeTracker();
    consoles = new FakeTracker();
    shell = { currentWidget: null, currentChanged: new Signal<any, any>({}) };
    seen = [];
    follower = new ActiveSessionFollower({
      trackers: [notebooks, consoles],
      shell,
      onChange: w => seen.push(w)
    });
  });

  afterEach(() => follower.dispose());

  function activate(tracker: FakeTracker, widget: ISessionWidget) {
    shell.currentWidget = widget;
    shell.currentChanged.emit(undefined);
    tracker.focus(widget);
  }

  it('starts with nothing', () => {
    expect(seen).toEqual([null]);
    expect(follower.current).toBeNull();
  });

  it('follows the notebook or console the user focuses', () => {
    const nb = sessionWidget();
    const con = sessionWidget();
    notebooks.add(nb);
    consoles.add(con);

    activate(notebooks, nb);
    expect(follower.current).toBe(nb);
    activate(consoles, con);
    expect(follower.current).toBe(con);
    expect(seen).toEqual([null, nb, con]);
  });

  it('keeps the last one while another kind of widget has focus', () => {
    const nb = sessionWidget();
    notebooks.add(nb);
    activate(notebooks, nb);

    // e.g. the file browser or a text file
    shell.currentWidget = new FakeWidget() as unknown as Widget;
    shell.currentChanged.emit(undefined);

    expect(follower.current).toBe(nb);
  });

  it('falls back to another open notebook when the current one closes', () => {
    const first = sessionWidget();
    const second = sessionWidget();
    notebooks.add(first);
    notebooks.add(second);
    activate(notebooks, first);
    activate(notebooks, second);

    second.dispose();

    expect(follower.current).toBe(first);
  });

  it('goes back to nothing when the last one closes', () => {
    const nb = sessionWidget();
    notebooks.add(nb);
    activate(notebooks, nb);

    nb.dispose();

    expect(follower.current).toBeNull();
    expect(seen[seen.length - 1]).toBeNull();
  });
});
