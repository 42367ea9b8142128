from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# A database seeded by --demo before demo rows were marked: mark its demo practice, the demo staff accounts
# (addresses under the reserved example.com domain) and the seeded patients (by name and date of birth,
# inside the demo practice only), so `remove-demo` and the start-up check find them.
DEMO_PRACTICE = "name = 'Lakeside Family Eye Care' AND tax_id = '03-0412876'"
DEMO_STAFF = (
    "'admin@example.com', 'frontdesk@example.com', 'priya@example.com', 'marcus@example.com', 'elena@example.com'"
)
DEMO_PATIENTS = [
    ('Maria', 'Alvarez', '1984-03-17'),
    ('Daniel', 'Okafor', '1979-11-02'),
    ('Ava', 'Okafor', '2014-06-21'),
    ('Harold', 'Jennings', '1946-01-30'),
    ('Chloe', 'Nguyen', '1996-09-05'),
    ('Robert', 'Kim', '1968-04-11'),
    ('Tom', 'Becker', '1972-08-26'),
    ('Linda', 'Moreau', '1958-12-03'),
    ('James', "O'Connell", '1989-02-14'),
    ('Sofia', 'Rossi', '2001-07-09'),
    ('William', 'Tran', '1955-05-22'),
    ('Emily', 'Carter', '1993-10-30'),
    ('Noah', 'Fischer', '2009-01-18'),
    ('Grace', 'Liu', '1981-06-06'),
    ('Patricia', 'Dubois', '1963-03-28'),
    ('Marcus', 'Green', '1977-09-13'),
    ('Hannah', 'Schultz', '1999-11-24'),
    ('Omar', 'Haddad', '1986-02-02'),
    ('Beatrice', 'Walsh', '1941-07-15'),
    ('Lucas', 'Pereira', '2005-04-03'),
    ('Mei', 'Tanaka', '1975-10-08'),
    ('George', 'Abernathy', '1950-08-19'),
    ('Priscilla', 'Boateng', '1988-12-12'),
    ('Kevin', 'Murphy', '1970-05-05'),
    ('Isabel', 'Ortega', '1994-01-27'),
]


def _quoted(text):
    return "'" + text.replace("'", "''") + "'"


PATIENT_MATCH = ' OR '.join(
    f'(first_name = {_quoted(first)} AND last_name = {_quoted(last)} AND date_of_birth = {_quoted(born)})'
    for first, last, born in DEMO_PATIENTS
)


class Migration(migrations.Migration):
    dependencies = [('models', '0008_verification')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Patient',
            name='is_demo',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Practice',
            name='is_demo',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunSQL(
            [
                f'UPDATE practice SET is_demo = TRUE WHERE {DEMO_PRACTICE}',
                f'UPDATE staffuser SET is_demo = TRUE WHERE email IN ({DEMO_STAFF})',
                'UPDATE patient SET is_demo = TRUE WHERE practice_id IN (SELECT id FROM practice WHERE is_demo)'
                f' AND ({PATIENT_MATCH})',
            ],
            reverse_sql='',
        ),
    ]
