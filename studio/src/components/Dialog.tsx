// A modal dialog from React Aria Components: focus trapped and restored, Escape closes, labelled by its heading.
import type { ReactNode } from 'react';
import { Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';

export function ModalDialog({ title, isOpen, onClose, role, children }: { title: string; isOpen: boolean; onClose(): void; role?: 'dialog' | 'alertdialog'; children: ReactNode }) {
  return (
    <ModalOverlay className="modal-overlay" isOpen={isOpen} onOpenChange={(open) => !open && onClose()} isDismissable={role !== 'alertdialog'}>
      <Modal className="modal">
        <Dialog className="dialog" role={role ?? 'dialog'}>
          <Heading slot="title" className="dialog-title">
            {title}
          </Heading>
          {children}
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

/** The buttons of a confirmation: Cancel (focused first, so Enter does not destroy anything) and the action. */
export function ConfirmActions({ action, onCancel, onConfirm }: { action: string; onCancel(): void; onConfirm(): void }) {
  return (
    <div className="dialog-actions">
      <button type="button" className="button" autoFocus onClick={onCancel}>
        Cancel
      </button>
      <button type="button" className="button danger" onClick={onConfirm}>
        {action}
      </button>
    </div>
  );
}
