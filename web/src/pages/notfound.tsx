import { usePageTitle } from '../components/common';
import { t } from '../i18n';

export function NotFoundPage() {
  usePageTitle('title.notFound');
  return (
    <>
      <h1>{t('title.notFound')}</h1>
      <p>{t('notFound.body')}</p>
      <p>
        <a href="/">{t('nav.home')}</a>
      </p>
    </>
  );
}

export function NotAllowed() {
  return (
    <div class="notice notice-info" data-testid="not-allowed">
      {t('notAllowed')}
    </div>
  );
}
