-- The ministries, offices and agencies (MOAs) of the Bangsamoro government. An
-- organization is the unit of tenancy: every tenant row carries its id as org_id.
create table organizations (
    id         uuid primary key default gen_random_uuid(),
    code       text not null check (code ~ '^[A-Z][A-Z0-9-]{1,15}$'),
    name       text not null check (length(name) between 3 and 200),
    kind       text not null check (kind in ('moa', 'ocm', 'bpda', 'mfbm')),
    created_at timestamptz not null default now()
);
create unique index organizations_code_key on organizations (code);
create unique index organizations_name_key on organizations (lower(name));
-- OCM, BPDA and MFBM hold special powers: exactly one organization of each kind.
create unique index organizations_one_special_each on organizations (kind) where kind <> 'moa';

-- Organizations are reference data every signed-in user may read. New ones come from
-- the admin CLI; nothing renames or deletes them through the application.
grant select, insert on organizations to bmms_app;

insert into organizations (code, name, kind) values
    ('OCM',   'Office of the Chief Minister', 'ocm'),
    ('BPDA',  'Bangsamoro Planning and Development Authority', 'bpda'),
    ('MFBM',  'Ministry of Finance, and Budget and Management', 'mfbm'),
    -- Ministries
    ('MAFAR', 'Ministry of Agriculture, Fisheries and Agrarian Reform', 'moa'),
    ('MBHTE', 'Ministry of Basic, Higher and Technical Education', 'moa'),
    ('MENRE', 'Ministry of Environment, Natural Resources and Energy', 'moa'),
    ('MOH',   'Ministry of Health', 'moa'),
    ('MHSD',  'Ministry of Human Settlements and Development', 'moa'),
    ('MILG',  'Ministry of the Interior and Local Government', 'moa'),
    ('MIPA',  'Ministry of Indigenous Peoples'' Affairs', 'moa'),
    ('MOLE',  'Ministry of Labor and Employment', 'moa'),
    ('MPOS',  'Ministry of Public Order and Safety', 'moa'),
    ('MPW',   'Ministry of Public Works', 'moa'),
    ('MOST',  'Ministry of Science and Technology', 'moa'),
    ('MSSD',  'Ministry of Social Services and Development', 'moa'),
    ('MTIT',  'Ministry of Trade, Investments and Tourism', 'moa'),
    ('MOTC',  'Ministry of Transportation and Communications', 'moa'),
    -- Offices, commissions and agencies
    ('OOBC',  'Office for Other Bangsamoro Communities', 'moa'),
    ('OSM',   'Office of the Senior Minister', 'moa'),
    ('OCS',   'Office of the Cabinet Secretary', 'moa'),
    ('OW',    'Office of the Wali', 'moa'),
    ('BTA',   'Bangsamoro Transition Authority Parliament', 'moa'),
    ('BAGO',  'Bangsamoro Attorney-General''s Office', 'moa'),
    ('BWC',   'Bangsamoro Women Commission', 'moa'),
    ('BYC',   'Bangsamoro Youth Commission', 'moa'),
    ('BSC',   'Bangsamoro Sports Commission', 'moa'),
    ('BHRC',  'Bangsamoro Human Rights Commission', 'moa'),
    ('BCPCH', 'Bangsamoro Commission for the Preservation of Cultural Heritage', 'moa'),
    ('BDI',   'Bangsamoro Darul-Ifta''', 'moa'),
    ('BPA',   'Bangsamoro Pilgrimage Authority', 'moa'),
    ('BBOI',  'Bangsamoro Board of Investments', 'moa'),
    ('BEZA',  'Bangsamoro Economic Zone Authority', 'moa'),
    ('BPMA',  'Bangsamoro Ports Management Authority', 'moa'),
    ('BAA',   'Bangsamoro Airport Authority', 'moa'),
    ('BTO',   'Bangsamoro Treasury Office', 'moa'),
    ('BIO',   'Bangsamoro Information Office', 'moa'),
    ('BICTO', 'Bangsamoro Information and Communications Technology Office', 'moa'),
    ('READI', 'Bangsamoro Rapid Emergency Action on Disaster Incidence', 'moa'),
    ('CSEA',  'Cooperative and Social Enterprise Authority', 'moa'),
    ('DAB',   'Development Academy of the Bangsamoro', 'moa'),
    ('BEDC',  'Bangsamoro Economic and Development Council', 'moa'),
    ('BHB',   'Bangsamoro Halal Board', 'moa');
